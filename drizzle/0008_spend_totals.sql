CREATE TABLE `credit_totals` (
	`project` text NOT NULL,
	`upto_ts` integer NOT NULL,
	`used_nanos` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `spend_totals` (
	`key_id` text NOT NULL,
	`user` text,
	`project` text NOT NULL,
	`upto_ts` integer NOT NULL,
	`cost_nanos` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `credit_ledger_kind_ts` ON `credit_ledger` (`kind`,`ts`);