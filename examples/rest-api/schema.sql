-- The items table the actions read and write (run once, e.g. psql "$DATABASE_URL" -f schema.sql).
CREATE TABLE IF NOT EXISTS items (
    id      serial PRIMARY KEY,
    name    text    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    done    boolean NOT NULL DEFAULT false,
    created timestamptz NOT NULL DEFAULT now()
);
