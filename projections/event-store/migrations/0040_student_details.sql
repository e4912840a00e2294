-- The seed system's student fields that a school's spreadsheet carries (bulk onboarding), and
-- the folded form of the name that search matches without case or accents.
ALTER TABLE students
    ADD COLUMN phone         text,
    ADD COLUMN active        boolean NOT NULL DEFAULT true,
    ADD COLUMN registered_on date,
    ADD COLUMN search_key    text;
