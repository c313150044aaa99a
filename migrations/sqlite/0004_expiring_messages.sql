-- Chat messages due for deletion (an exported key deletes itself after a
-- minute), SQLite dialect. Keep in step with
-- ../postgres/0004_expiring_messages.sql. Stored, so a restart inside that
-- minute still deletes the message.

CREATE TABLE expiring_messages (
    chat_platform TEXT    NOT NULL,
    chat_id       INTEGER NOT NULL,
    message_id    INTEGER NOT NULL,
    delete_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (chat_platform, chat_id, message_id)
);

CREATE INDEX expiring_messages_due ON expiring_messages (delete_at_ms);
