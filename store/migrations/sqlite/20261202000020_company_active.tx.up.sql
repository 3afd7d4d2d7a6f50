-- An inactive company keeps its data but opens no new tickets in the
-- portal or the CLI (the old app's rule). Every company starts active.
ALTER TABLE companies ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
