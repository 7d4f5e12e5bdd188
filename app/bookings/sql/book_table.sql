-- The booking functions PostgreSQL runs: the readable source of what the migrations
-- install (booking_lock_key since 0009, book_table as 0020 left it). The migrated
-- database must run exactly these definitions: tests/bookings/test_book_table_sql.py
-- compares them. To change one, edit it here and add a migration that installs the new
-- text; the test fails until both agree.
--
-- The same rules in Python: app.bookings.service.create_booking (the full path, which
-- also explains every refusal), app.db.locks.table_day_lock (the same lock key), and
-- app.bookings.statements.INSERT_IF_FREE (the same overlap test). The tests in
-- tests/bookings/test_booking_paths.py book through both paths and expect the same rows.

-- The advisory lock key of a table's bookings on one local date (lock space 1003,
-- app.db.locks.LockSpace.TABLE_DAY). Fits int4, as pg_advisory_xact_lock(int, int)
-- needs; two (table, day) pairs sharing a key only wait for each other.
CREATE FUNCTION booking_lock_key(p_table integer, p_day date) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (((p_table::bigint * 1000003 + (p_day - DATE '2000-01-01')) & 4294967295)
            - 2147483648)::integer
$$;

-- Book the best-fitting free table for a party in one call and one transaction:
-- 1. the account must exist, be active and be a customer's, with its guest record (staff
--    and a customer's first booking take the full path, which makes the record);
--    fair use, under the account's lock (1004): no overlapping active booking, fewer
--    than p_max_active not yet over (app.bookings.fairuse);
-- 2. the fitting tables (bookable, online, seating the party; only p_table when given)
--    are walked smallest first, then by number, as app.bookings.statements.FREE_TABLES
--    orders them;
-- 3. a table with an active (confirmed or seated) booking or a live hold (held, not
--    yet expired at p_now) overlapping [p_starts, p_ends) is passed over without its
--    lock; p_earliest is p_starts less the longest a booking can last
--    (app.venue.calendar.MAX_DURATION), so the probe walks a bounded range of the
--    (table_id, starts_at) index;
-- 4. the first free one is locked (table and local day), its holds over by p_now are
--    marked expired, and the booking inserted only if nothing overlaps it still; the
--    exclusion constraint backs this;
-- 5. the confirmation is queued in the outbox in the same transaction.
-- No row back means it could not simply book: the application then takes its full path,
-- which decides again and says why. The availability trigger's NOTIFY is held back for
-- this insert; the application announces these bookings in batches
-- (app.bookings.cache.ChangePublisher).
CREATE FUNCTION book_table(
    p_user integer, p_party integer, p_starts timestamptz, p_ends timestamptz,
    p_earliest timestamptz, p_day date, p_table integer, p_special text, p_now timestamptz,
    p_max_active integer
) RETURNS TABLE (new_booking integer, new_table integer, new_table_number integer,
                 new_guest integer, new_guest_name text, new_guest_phone text,
                 new_guest_email text)
LANGUAGE plpgsql AS $$
DECLARE
    v_guest record;
    v_table record;
    v_id integer;
BEGIN
    -- Staff, and a customer's first booking (no guest record yet), take the full path.
    PERFORM 1 FROM users u WHERE u.id = p_user AND u.is_active AND u.role = 'customer';
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT g.id, g.name, g.phone, g.email INTO v_guest FROM guests g WHERE g.user_id = p_user;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    -- Fair use, under the account's lock (app.db.locks.LockSpace.ACCOUNT).
    PERFORM pg_advisory_xact_lock(1004, p_user);
    -- Bounded ranges of the (user_id, starts_at) index, however many the account holds:
    -- an overlapping booking starts after p_earliest; the count stops at the limit (a
    -- booking not yet over started less than MAX_DURATION, 12 hours, ago).
    IF EXISTS (
        SELECT 1 FROM bookings b
        WHERE b.user_id = p_user AND b.status IN ('confirmed', 'seated')
          AND b.starts_at > p_earliest AND b.starts_at < p_ends AND b.ends_at > p_starts)
       OR (SELECT count(*) FROM (
               SELECT 1 FROM bookings b
               WHERE b.user_id = p_user AND b.status IN ('confirmed', 'seated')
                 AND b.starts_at > p_now - interval '12 hours' AND b.ends_at > p_now
               LIMIT p_max_active) AS held) >= p_max_active THEN
        RETURN;
    END IF;
    FOR v_table IN
        SELECT t.id, t.table_number FROM tables t
        WHERE t.bookable AND t.capacity >= p_party AND (p_table IS NULL OR t.id = p_table)
          AND t.channel = 'online'  -- guests book online tables only (migration 0020)
        ORDER BY t.capacity, t.table_number
    LOOP
        CONTINUE WHEN EXISTS (
            SELECT 1 FROM bookings b
            WHERE b.table_id = v_table.id
              AND (b.status IN ('confirmed', 'seated')
                   OR (b.status = 'held' AND b.hold_expires_at > p_now))
              AND b.starts_at < p_ends AND b.starts_at > p_earliest AND b.ends_at > p_starts);
        PERFORM pg_advisory_xact_lock(1003, booking_lock_key(v_table.id, p_day));
        -- A hold over by now no longer keeps the table, but the exclusion constraint
        -- still counts it until it is marked expired (migration 0019).
        UPDATE bookings b SET status = 'expired', updated_at = p_now
        WHERE b.table_id = v_table.id AND b.status = 'held' AND b.hold_expires_at <= p_now
          AND b.starts_at < p_ends AND b.starts_at > p_earliest AND b.ends_at > p_starts;
        v_id := NULL;
        -- The application announces this booking itself, batched (migration 0009).
        PERFORM set_config('restaurant.notify_later', 'on', true);
        INSERT INTO bookings (user_id, guest_id, source, table_id, party_size, starts_at,
                              ends_at, status, special_requests, created_at, updated_at)
        SELECT p_user, v_guest.id, 'online', v_table.id, p_party, p_starts, p_ends,
               'confirmed', p_special, p_now, p_now
        WHERE NOT EXISTS (
            SELECT 1 FROM bookings b
            WHERE b.table_id = v_table.id
              AND (b.status IN ('confirmed', 'seated')
                   OR (b.status = 'held' AND b.hold_expires_at > p_now))
              AND b.starts_at < p_ends AND b.starts_at > p_earliest AND b.ends_at > p_starts)
        RETURNING id INTO v_id;
        PERFORM set_config('restaurant.notify_later', 'off', true);
        IF v_id IS NOT NULL THEN
            IF v_guest.email IS NOT NULL THEN
                INSERT INTO outbox_messages (kind, booking_id, recipient, status, attempts,
                                             next_attempt_at, created_at)
                VALUES ('booking_confirmed', v_id, v_guest.email, 'pending', 0, p_now, p_now);
            END IF;
            new_booking := v_id;
            new_table := v_table.id;
            new_table_number := v_table.table_number;
            new_guest := v_guest.id;
            new_guest_name := v_guest.name;
            new_guest_phone := v_guest.phone;
            new_guest_email := v_guest.email;
            RETURN NEXT;
            RETURN;
        END IF;
    END LOOP;
END $$;
