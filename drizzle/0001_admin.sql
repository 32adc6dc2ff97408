CREATE TABLE `admin_audit` (
	`id` text PRIMARY KEY NOT NULL,
	`ts` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`object_type` text NOT NULL,
	`object_id` text,
	`project` text,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `admin_audit_ts` ON `admin_audit` (`ts`);--> statement-breakpoint
CREATE TABLE `admin_identities` (
	`iss` text NOT NULL,
	`sub` text NOT NULL,
	`user_id` text NOT NULL,
	`email` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`iss`, `sub`)
);
--> statement-breakpoint
CREATE INDEX `admin_identities_user` ON `admin_identities` (`user_id`);--> statement-breakpoint
CREATE TABLE `admin_invitations` (
	`id` text PRIMARY KEY NOT NULL,
	`token_sha256` text NOT NULL,
	`project` text NOT NULL,
	`role` text NOT NULL,
	`email` text,
	`created_by` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`redeemed_at` integer,
	`redeemed_by` text,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `admin_invitations_token` ON `admin_invitations` (`token_sha256`);--> statement-breakpoint
CREATE TABLE `admin_login_states` (
	`state_sha256` text PRIMARY KEY NOT NULL,
	`nonce` text NOT NULL,
	`code_verifier` text NOT NULL,
	`invitation_id` text,
	`setup_id` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `admin_memberships` (
	`project` text NOT NULL,
	`user_id` text NOT NULL,
	`role` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`project`, `user_id`)
);
--> statement-breakpoint
CREATE INDEX `admin_memberships_user` ON `admin_memberships` (`user_id`);--> statement-breakpoint
CREATE TABLE `admin_projects` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text,
	`providers` text,
	`limit_daily_nanos` integer,
	`limit_weekly_nanos` integer,
	`limit_monthly_nanos` integer,
	`limit_total_nanos` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `admin_providers` (
	`id` text PRIMARY KEY NOT NULL,
	`api` text NOT NULL,
	`base_url` text,
	`project` text,
	`key_ciphertext` text,
	`key_last4` text,
	`headers` text,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `admin_sessions` (
	`id_sha256` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`csrf_token` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `admin_sessions_user` ON `admin_sessions` (`user_id`);--> statement-breakpoint
CREATE TABLE `admin_setup_links` (
	`id` text PRIMARY KEY NOT NULL,
	`token_sha256` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`used_by` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `admin_setup_links_token_sha256_unique` ON `admin_setup_links` (`token_sha256`);--> statement-breakpoint
CREATE TABLE `admin_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text,
	`token_sha256` text NOT NULL,
	`role` text NOT NULL,
	`project` text,
	`user_id` text,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `admin_tokens_sha` ON `admin_tokens` (`token_sha256`);--> statement-breakpoint
CREATE TABLE `admin_users` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text,
	`name` text,
	`role` text DEFAULT 'member' NOT NULL,
	`limit_daily_nanos` integer,
	`limit_weekly_nanos` integer,
	`limit_monthly_nanos` integer,
	`limit_total_nanos` integer,
	`created_at` integer NOT NULL,
	`last_seen_at` integer,
	`disabled_at` integer
);
