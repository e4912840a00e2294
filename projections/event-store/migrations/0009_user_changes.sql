-- Every API process caches the accounts of its recent callers (api::auth::users::AccountCache)
-- and must drop one as soon as it changes, whoever changes it (another process, the CLI,
-- psql). A row trigger announces the id of each updated or deleted account, once the
-- changing transaction commits; a TRUNCATE announces an empty id: forget every account.
CREATE FUNCTION users_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('attendance_user_changed', '');
    ELSE
        PERFORM pg_notify('attendance_user_changed', OLD.id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_changed
    AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION users_announce_change();

CREATE TRIGGER users_truncated
    AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION users_announce_change();
