CREATE TABLE "provider_objects" (
	"provider" text NOT NULL,
	"kind" text NOT NULL,
	"object_id" text NOT NULL,
	"project" text NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint,
	CONSTRAINT "provider_objects_provider_kind_object_id_pk" PRIMARY KEY("provider","kind","object_id")
);
--> statement-breakpoint
CREATE INDEX "provider_objects_project" ON "provider_objects" USING btree ("provider","kind","project");--> statement-breakpoint
CREATE INDEX "provider_objects_expires" ON "provider_objects" USING btree ("expires_at");