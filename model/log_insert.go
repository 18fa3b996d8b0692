package model

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// The group commit's consume-log insert. Every relayed call ends in one
// row here, so this is the database's share of the hot path's cost.
// gorm's CreateInBatches cost more than the rest of the flush together
// on SQLite: a multi-row INSERT whose SQL changed with every batch's size
// was parsed afresh each time, and gorm's prepared-statement cache
// prepares a statement first seen inside a transaction on that
// transaction, so database/sql prepared it again in every later one (half
// of the flush's CPU in the relay benchmark, issue 14). Here the rows go
// in chunks of a few fixed sizes, through statements prepared once on the
// database and bound to each transaction's connection by database/sql,
// which reuses them per connection.

// logChunks are the rows per INSERT, largest first: a batch is cut into
// as many of the first as fit, then the next, and so on, so the handful of
// statements are all the SQL there is. 64 rows of 22 columns stay far
// under every dialect's parameter limit.
var logChunks = [...]int{64, 8, 1}

// logColumns are the logs table's columns in the order logValues gives
// them, every one but the id. TestLogColumnsMatchTheModel pins them to
// the Log struct.
var logColumns = []string{"user_id", "created_at", "type", "content", "username", "token_name", "token_id",
	"model_name", "quota", "prompt_tokens", "completion_tokens", "cached_tokens", "cache_creation_tokens",
	"reasoning_tokens", "channel_id", "elapsed_ms", "first_token_ms", "is_stream", "request_id", "ip", "code", "params"}

// logValues appends l's values in logColumns' order.
func logValues(args []any, l *Log) []any {
	return append(args, l.UserID, l.CreatedAt, l.Type, l.Content, l.Username, l.TokenName, l.TokenID,
		l.ModelName, l.Quota, l.PromptTokens, l.CompletionTokens, l.CachedTokens, l.CacheCreationTokens,
		l.ReasoningTokens, l.ChannelID, l.ElapsedMs, l.FirstTokenMs, l.IsStream, l.RequestID, l.IP, l.Code, l.Params)
}

// chunkedInsert is one INSERT statement of a table, prepared once per
// database for each of logChunks' row counts and run inside the
// group commit's transactions (see above).
type chunkedInsert struct {
	mu    sync.Mutex
	stmts [len(logChunks)]*sql.Stmt
	args  []any // reused by the flush, which runs one at a time
	// sql is the statement for n rows in a dialect's SQL.
	sql func(d Dialect, n int) string
}

// newLogInserter holds one database's prepared log inserts.
func newLogInserter() *chunkedInsert {
	return &chunkedInsert{sql: func(d Dialect, n int) string { return insertSQL(d, "logs", logColumns, n) }}
}

// quoteOf is d's identifier quote.
func quoteOf(d Dialect) string {
	if d == MySQL {
		return "`"
	}
	return `"`
}

// insertSQL is the INSERT of n rows of columns into table in d's SQL.
func insertSQL(d Dialect, table string, columns []string, n int) string {
	q := quoteOf(d)
	var b strings.Builder
	b.WriteString("INSERT INTO " + q + table + q + " (")
	for i, c := range columns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(q + c + q)
	}
	b.WriteString(") VALUES ")
	row := "(?" + strings.Repeat(",?", len(columns)-1) + ")"
	if d == Postgres {
		// pgx takes $n placeholders only.
		for r := 0; r < n; r++ {
			if r > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for c := range columns {
				if c > 0 {
					b.WriteByte(',')
				}
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(r*len(columns) + c + 1))
			}
			b.WriteByte(')')
		}
		return b.String()
	}
	for r := 0; r < n; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	return b.String()
}

// run inserts rows rows inside tx, a transaction of db (dialect d), the
// values of row i appended to args by values.
func (ci *chunkedInsert) run(ctx context.Context, tx *gorm.DB, db *gorm.DB, d Dialect, rows int, values func(args []any, i int) []any) error {
	if rows == 0 {
		return nil
	}
	sqlTx := sqlTxOf(tx)
	if sqlTx == nil {
		return errors.New("ledger: the group commit is not in a database/sql transaction")
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	ci.mu.Lock()
	defer ci.mu.Unlock()
	next := 0
	for k, n := range logChunks {
		for rows-next >= n {
			if ci.stmts[k] == nil {
				st, err := sqlDB.PrepareContext(ctx, ci.sql(d, n))
				if err != nil {
					return err
				}
				ci.stmts[k] = st
			}
			args := ci.args[:0]
			for i := next; i < next+n; i++ {
				args = values(args, i)
			}
			ci.args = args
			_, err := sqlTx.StmtContext(ctx, ci.stmts[k]).ExecContext(ctx, args...)
			clear(args) // drop the references to this batch's strings
			if err != nil {
				return err
			}
			next += n
		}
	}
	return nil
}

// insert writes logs inside tx, a transaction of db (dialect d).
func (ci *chunkedInsert) insert(ctx context.Context, tx *gorm.DB, db *gorm.DB, d Dialect, logs []*Log) error {
	return ci.run(ctx, tx, db, d, len(logs), func(args []any, i int) []any { return logValues(args, logs[i]) })
}

// close releases the prepared statements.
func (ci *chunkedInsert) close() {
	ci.mu.Lock()
	defer ci.mu.Unlock()
	for k, st := range ci.stmts {
		if st != nil {
			st.Close()
			ci.stmts[k] = nil
		}
	}
}

// sqlTxOf is the database/sql transaction under a gorm transaction.
func sqlTxOf(tx *gorm.DB) *sql.Tx {
	switch p := tx.Statement.ConnPool.(type) {
	case *sql.Tx:
		return p
	case *gorm.PreparedStmtTX:
		if t, ok := p.Tx.(*sql.Tx); ok {
			return t
		}
	}
	return nil
}
