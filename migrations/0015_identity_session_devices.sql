-- A push installation belongs to the session that registered it: when that session ends (logout,
-- "end this session" from another phone, refresh-token reuse, account suspension) the phone must stop
-- receiving the person's notifications — their titles name reports, certificates and health events,
-- and a shared, sold or stolen phone keeps its FCM token. Done in the database so that every path
-- that revokes a session (there are several, in identity and admin code) removes the devices too.
-- The device's topic subscriptions (city, district) are withdrawn through the push outbox first, so
-- announcements stop as well. Devices without a session (registered by older app versions) stay until
-- the person removes them or FCM reports the token unregistered.

CREATE FUNCTION identity_drop_session_devices() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    district_topic text := push_district_topic(NEW.user_id);
BEGIN
    PERFORM push_queue_topic('unsubscribe', d.fcm_token, 'city') FROM devices d WHERE d.session_id = NEW.id;
    PERFORM push_queue_topic('unsubscribe', d.fcm_token, district_topic) FROM devices d WHERE d.session_id = NEW.id;
    DELETE FROM devices WHERE session_id = NEW.id;
    RETURN NEW;
END $$;

CREATE TRIGGER sessions_drop_devices AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION identity_drop_session_devices();

CREATE INDEX devices_session ON devices (session_id) WHERE session_id IS NOT NULL;
