-- Topic subscriptions follow devices and districts without the identity code knowing about FCM:
-- registering a device (or moving a token) subscribes it to "city" and its user's district
-- topic ("district-<unit code>"); a user changing district moves every device. The rows go
-- through the push outbox like messages, so FCM outages delay them but never lose them.

CREATE FUNCTION push_district_topic(p_user uuid) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT 'district-' || lower(un.code) FROM users u JOIN units un ON un.id = u.district_id WHERE u.id = p_user
$$;

CREATE FUNCTION push_queue_topic(p_kind text, p_token text, p_topic text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO push_outbox (id, kind, idempotency_key, token, topic)
    SELECT gen_random_uuid(), p_kind, p_kind || ':' || gen_random_uuid()::text, p_token, p_topic
    WHERE p_topic IS NOT NULL
$$;

CREATE FUNCTION push_device_topics() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    new_topic text := push_district_topic(NEW.user_id);
    old_topic text;
BEGIN
    IF TG_OP = 'INSERT' OR NEW.fcm_token IS DISTINCT FROM OLD.fcm_token THEN
        PERFORM push_queue_topic('subscribe', NEW.fcm_token, 'city');
        PERFORM push_queue_topic('subscribe', NEW.fcm_token, new_topic);
    ELSIF NEW.user_id IS DISTINCT FROM OLD.user_id THEN
        old_topic := push_district_topic(OLD.user_id);
        IF old_topic IS DISTINCT FROM new_topic THEN
            PERFORM push_queue_topic('unsubscribe', NEW.fcm_token, old_topic);
            PERFORM push_queue_topic('subscribe', NEW.fcm_token, new_topic);
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER devices_push_topics AFTER INSERT OR UPDATE OF fcm_token, user_id ON devices
    FOR EACH ROW EXECUTE FUNCTION push_device_topics();

CREATE FUNCTION push_user_district_topics() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_topic text := (SELECT 'district-' || lower(code) FROM units WHERE id = OLD.district_id);
    new_topic text := (SELECT 'district-' || lower(code) FROM units WHERE id = NEW.district_id);
BEGIN
    IF old_topic IS DISTINCT FROM new_topic THEN
        PERFORM push_queue_topic('unsubscribe', d.fcm_token, old_topic) FROM devices d WHERE d.user_id = NEW.id;
        PERFORM push_queue_topic('subscribe', d.fcm_token, new_topic) FROM devices d WHERE d.user_id = NEW.id;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER users_push_district_topics AFTER UPDATE OF district_id ON users
    FOR EACH ROW WHEN (OLD.district_id IS DISTINCT FROM NEW.district_id)
    EXECUTE FUNCTION push_user_district_topics();
