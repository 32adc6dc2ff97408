CREATE TABLE `provider_objects` (
	`provider` text NOT NULL,
	`kind` text NOT NULL,
	`object_id` text NOT NULL,
	`project` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	PRIMARY KEY(`provider`, `kind`, `object_id`)
);
--> statement-breakpoint
CREATE INDEX `provider_objects_project` ON `provider_objects` (`provider`,`kind`,`project`);--> statement-breakpoint
CREATE INDEX `provider_objects_expires` ON `provider_objects` (`expires_at`);