-- PostgreSQL's search index composes decomposed accents (NFD) before it
-- splits words (same-numbered migration there). FTS5's unicode61
-- tokenizer with remove_diacritics 2 already folds a combining mark into
-- its letter, so SQLite's index needs no change; this keeps the two
-- dialects' migration lists alike.
SELECT 1;
