CREATE TABLE "credit_totals" (
	"project" text NOT NULL,
	"upto_ts" bigint NOT NULL,
	"used_nanos" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "spend_totals" (
	"key_id" text NOT NULL,
	"user" text,
	"project" text NOT NULL,
	"upto_ts" bigint NOT NULL,
	"cost_nanos" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "credit_ledger_kind_ts" ON "credit_ledger" USING btree ("kind","ts");