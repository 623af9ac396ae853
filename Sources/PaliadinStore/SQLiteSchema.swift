/// The SQLite schema, as numbered migrations (version N = the first N entries applied).
enum SQLiteSchema {
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE turns (
                id TEXT PRIMARY KEY NOT NULL,
                user_id TEXT NOT NULL,
                session_id TEXT NOT NULL,
                page_origin TEXT,
                context_json TEXT,
                user_message TEXT NOT NULL,
                status TEXT NOT NULL,
                response TEXT NOT NULL DEFAULT '',
                error_code TEXT,
                error_message TEXT,
                started_at INTEGER NOT NULL,
                first_token_at INTEGER,
                finished_at INTEGER,
                duration_ms INTEGER,
                ttft_ms INTEGER,
                backend TEXT NOT NULL,
                model TEXT NOT NULL,
                tokens_in INTEGER,
                tokens_out INTEGER,
                used_tools TEXT NOT NULL DEFAULT '[]',
                rows_seen TEXT NOT NULL DEFAULT '[]',
                chip_count INTEGER NOT NULL DEFAULT 0,
                classifier_tag TEXT NOT NULL DEFAULT '',
                conversation_id TEXT,
                reader_connects INTEGER NOT NULL DEFAULT 0,
                reader_resumes INTEGER NOT NULL DEFAULT 0,
                streamed INTEGER NOT NULL DEFAULT 0
            )
            """,
            "CREATE INDEX turns_by_session ON turns (user_id, session_id, started_at)",
            "CREATE INDEX turns_by_start ON turns (started_at)",
            "CREATE INDEX turns_running ON turns (status) WHERE status = 'running'",
            """
            CREATE TABLE turn_events (
                turn_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                kind TEXT NOT NULL,
                data TEXT NOT NULL,
                PRIMARY KEY (turn_id, seq)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE conversation_resets (
                user_id TEXT PRIMARY KEY NOT NULL,
                reset_at INTEGER NOT NULL
            )
            """,
            """
            CREATE TABLE api_tokens (
                id TEXT PRIMARY KEY NOT NULL,
                user_id TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                label TEXT NOT NULL DEFAULT '',
                created_at INTEGER NOT NULL,
                revoked_at INTEGER
            )
            """,
        ]
    ]
}
