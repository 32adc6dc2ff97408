CREATE TABLE "change_counters" (
	"name" text PRIMARY KEY NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
INSERT INTO "change_counters" ("name", "version") VALUES ('api_keys', 0);
--> statement-breakpoint
CREATE FUNCTION "tollgate_api_keys_changed"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE "change_counters" SET "version" = "version" + 1 WHERE "name" = 'api_keys'; RETURN NULL; END $$;
--> statement-breakpoint
CREATE TRIGGER "api_keys_changed" AFTER INSERT OR UPDATE OR DELETE ON "api_keys" FOR EACH STATEMENT EXECUTE FUNCTION "tollgate_api_keys_changed"();
