/// The PostgreSQL schema, as numbered migrations (version N = the first N entries applied).
///
/// Times are `timestamptz` written at millisecond precision (as the SQLite store keeps them);
/// JSON the store only carries (page context, tools, rows, event payloads) is `text`, so it
/// reads back byte for byte as written. `row_no` orders turns that started in the same
/// millisecond by insertion, as SQLite's `rowid` does.
enum PostgresSchema {
    /// The key of the advisory lock that serialises migrations of instances starting together.
    static let migrationLock: Int64 = 0x5061_6C69_6164_696E  // "Paliadin"

    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE turns (
                row_no bigint GENERATED ALWAYS AS IDENTITY,
                id text PRIMARY KEY,
                user_id text NOT NULL,
                session_id text NOT NULL,
                page_origin text,
                context_json text,
                user_message text NOT NULL,
                status text NOT NULL,
                response text NOT NULL DEFAULT '',
                error_code text,
                error_message text,
                started_at timestamptz NOT NULL,
                first_token_at timestamptz,
                finished_at timestamptz,
                duration_ms bigint,
                ttft_ms bigint,
                backend text NOT NULL,
                model text NOT NULL,
                tokens_in bigint,
                tokens_out bigint,
                used_tools text NOT NULL DEFAULT '[]',
                rows_seen text NOT NULL DEFAULT '[]',
                chip_count bigint NOT NULL DEFAULT 0,
                classifier_tag text NOT NULL DEFAULT '',
                conversation_id text,
                reader_connects bigint NOT NULL DEFAULT 0,
                reader_resumes bigint NOT NULL DEFAULT 0,
                streamed boolean NOT NULL DEFAULT false,
                instance_id text,
                stop_requested boolean NOT NULL DEFAULT false
            )
            """,
            "CREATE INDEX turns_by_session ON turns (user_id, session_id, started_at, row_no)",
            "CREATE INDEX turns_by_start ON turns (started_at, row_no)",
            "CREATE INDEX turns_running_by_instance ON turns (instance_id) WHERE status = 'running'",
            """
            CREATE TABLE turn_events (
                turn_id text NOT NULL,
                seq bigint NOT NULL,
                kind text NOT NULL,
                data text NOT NULL,
                PRIMARY KEY (turn_id, seq)
            )
            """,
            """
            CREATE TABLE conversation_resets (
                user_id text PRIMARY KEY,
                reset_at timestamptz NOT NULL
            )
            """,
            """
            CREATE TABLE api_tokens (
                id text PRIMARY KEY,
                user_id text NOT NULL,
                token_hash text NOT NULL UNIQUE,
                label text NOT NULL DEFAULT '',
                created_at timestamptz NOT NULL,
                revoked_at timestamptz
            )
            """,
            """
            CREATE TABLE instances (
                id text PRIMARY KEY,
                address text NOT NULL,
                started_at timestamptz NOT NULL DEFAULT now(),
                heartbeat_at timestamptz NOT NULL
            )
            """,
        ]
    ]

    /// The newest version this Paliadin knows.
    static var knownVersion: Int { migrations.count }
}
