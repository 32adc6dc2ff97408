CREATE TABLE "spend_totals" (
	"key_id" text NOT NULL,
	"user" text,
	"project" text NOT NULL,
	"upto_ts" bigint NOT NULL,
	"cost_nanos" bigint NOT NULL
);
