CREATE TABLE `credit_ledger` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project` text NOT NULL,
	`ts` integer NOT NULL,
	`kind` text NOT NULL,
	`amount_nanos` integer NOT NULL,
	`ledger_id` text,
	`note` text
);
--> statement-breakpoint
CREATE INDEX `credit_ledger_project` ON `credit_ledger` (`project`,`kind`);--> statement-breakpoint
CREATE TABLE `spend_ledger` (
	`id` text PRIMARY KEY NOT NULL,
	`request_id` text NOT NULL,
	`ts` integer NOT NULL,
	`key_id` text NOT NULL,
	`project` text NOT NULL,
	`user` text,
	`provider` text,
	`model` text,
	`state` text NOT NULL,
	`reserved_nanos` integer NOT NULL,
	`cost_nanos` integer DEFAULT 0 NOT NULL,
	`provider_cost_nanos` integer DEFAULT 0 NOT NULL,
	`managed` integer DEFAULT false NOT NULL,
	`estimated` integer DEFAULT false NOT NULL,
	`unpriced` integer DEFAULT false NOT NULL,
	`settled_at` integer,
	`note` text
);
--> statement-breakpoint
CREATE INDEX `spend_ledger_ts` ON `spend_ledger` (`ts`);--> statement-breakpoint
CREATE INDEX `spend_ledger_state` ON `spend_ledger` (`state`);--> statement-breakpoint
CREATE INDEX `spend_ledger_key_ts` ON `spend_ledger` (`key_id`,`ts`);--> statement-breakpoint
CREATE INDEX `spend_ledger_project_ts` ON `spend_ledger` (`project`,`ts`);