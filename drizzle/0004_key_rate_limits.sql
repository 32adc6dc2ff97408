ALTER TABLE `api_keys` ADD `rate_rpm` integer;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `rate_tpm` integer;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `rate_concurrency` integer;