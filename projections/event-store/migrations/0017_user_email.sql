-- An account's e-mail address (issue 18: teachers and other accounts imported from a
-- spreadsheet). Personal data: it lives here, never in events.
ALTER TABLE users ADD COLUMN email text;
