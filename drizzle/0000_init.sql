CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text,
	`project` text NOT NULL,
	`user` text,
	`key_sha256` text NOT NULL,
	`display_prefix` text NOT NULL,
	`providers` text,
	`models` text,
	`limit_daily_nanos` integer,
	`limit_weekly_nanos` integer,
	`limit_monthly_nanos` integer,
	`limit_total_nanos` integer,
	`expires_at` integer,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_sha256_unique` ON `api_keys` (`key_sha256`);--> statement-breakpoint
CREATE TABLE `request_log` (
	`id` text PRIMARY KEY NOT NULL,
	`ts` integer NOT NULL,
	`key_id` text,
	`project` text,
	`user` text,
	`provider` text,
	`route` text,
	`api` text,
	`model` text,
	`method` text NOT NULL,
	`path` text NOT NULL,
	`stream` integer DEFAULT false NOT NULL,
	`status` integer NOT NULL,
	`duration_ms` integer NOT NULL,
	`ttfb_ms` integer,
	`input_tokens` integer,
	`output_tokens` integer,
	`cache_read_tokens` integer,
	`cache_write_tokens` integer,
	`usage` text,
	`cost_nanos` integer,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `request_log_ts` ON `request_log` (`ts`);--> statement-breakpoint
CREATE INDEX `request_log_key_ts` ON `request_log` (`key_id`,`ts`);