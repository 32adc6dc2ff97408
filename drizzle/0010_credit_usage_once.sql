-- A usage row settles one spend_ledger row: duplicates (a batch re-sent after a lost COMMIT) were double charges. Keep each ledger_id's first row (lowest id), drop the rest; top-ups are untouched.
DELETE FROM credit_ledger WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY ledger_id ORDER BY id) AS n FROM credit_ledger WHERE kind = 'usage' AND ledger_id IS NOT NULL) AS d WHERE n > 1);
--> statement-breakpoint
CREATE UNIQUE INDEX `credit_ledger_usage_ledger_id` ON `credit_ledger` (`ledger_id`) WHERE kind = 'usage';
