-- tickets_requester_id_idx (requester_id, id), made for the search
-- window, serves every lookup by requester the older tickets_requester_idx
-- served (on SQLite the two were the same index: every index ends with
-- the rowid). Each ticket insert kept both up to date.
DROP INDEX tickets_requester_idx;
