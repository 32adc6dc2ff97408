CREATE TABLE `change_counters` (
	`name` text PRIMARY KEY NOT NULL,
	`version` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
INSERT INTO `change_counters` (`name`, `version`) VALUES ('api_keys', 0);
--> statement-breakpoint
CREATE TRIGGER `api_keys_changed_insert` AFTER INSERT ON `api_keys` BEGIN UPDATE `change_counters` SET `version` = `version` + 1 WHERE `name` = 'api_keys'; END;
--> statement-breakpoint
CREATE TRIGGER `api_keys_changed_update` AFTER UPDATE ON `api_keys` BEGIN UPDATE `change_counters` SET `version` = `version` + 1 WHERE `name` = 'api_keys'; END;
--> statement-breakpoint
CREATE TRIGGER `api_keys_changed_delete` AFTER DELETE ON `api_keys` BEGIN UPDATE `change_counters` SET `version` = `version` + 1 WHERE `name` = 'api_keys'; END;
