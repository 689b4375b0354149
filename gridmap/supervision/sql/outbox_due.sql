-- Outbox rows due for an attempt, oldest first, locked so two workers never send one twice.
SELECT id, channel, recipient, payload, attempts
FROM notification_outbox
WHERE sent_at IS NULL AND attempts < :max_attempts AND next_attempt_at <= :now
ORDER BY next_attempt_at, id
LIMIT :batch
FOR UPDATE SKIP LOCKED
