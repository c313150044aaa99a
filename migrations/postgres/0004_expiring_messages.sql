-- Chat messages due for deletion (an exported key deletes itself after a
-- minute), Postgres dialect. Keep in step with
-- ../sqlite/0004_expiring_messages.sql. Stored, so a restart inside that
-- minute still deletes the message.

CREATE TABLE expiring_messages (
    chat_platform TEXT   NOT NULL,
    chat_id       BIGINT NOT NULL,
    message_id    BIGINT NOT NULL,
    delete_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (chat_platform, chat_id, message_id)
);

CREATE INDEX expiring_messages_due ON expiring_messages (delete_at_ms);
