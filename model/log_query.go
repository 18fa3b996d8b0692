package model

import (
	"context"

	"gorm.io/gorm"

	"switchyard/common/errs"
)

// LogFilter narrows log queries. Zero values do not filter.
type LogFilter struct {
	UserID    int
	Type      int
	Username  string
	TokenName string
	ModelName string
	ChannelID int
	// Start and End bound created_at (unix seconds), inclusive.
	Start int64
	End   int64
	// Keyword matches username, token name or model name by prefix, or a
	// request id exactly.
	Keyword string
}

func (f LogFilter) apply(q *gorm.DB) *gorm.DB {
	if f.UserID != 0 {
		q = q.Where("user_id = ?", f.UserID)
	}
	if f.Type != 0 {
		q = q.Where("type = ?", f.Type)
	}
	if f.Username != "" {
		q = q.Where("username = ?", f.Username)
	}
	if f.TokenName != "" {
		q = q.Where("token_name = ?", f.TokenName)
	}
	if f.ModelName != "" {
		q = q.Where("model_name = ?", f.ModelName)
	}
	if f.ChannelID != 0 {
		q = q.Where("channel_id = ?", f.ChannelID)
	}
	if f.Start != 0 {
		q = q.Where("created_at >= ?", f.Start)
	}
	if f.End != 0 {
		q = q.Where("created_at <= ?", f.End)
	}
	if f.Keyword != "" {
		// Prefix matches can use the indexes; a leading % could not.
		p := escapeLike(f.Keyword) + "%"
		q = q.Where("(username LIKE ? ESCAPE '!' OR token_name LIKE ? ESCAPE '!' OR model_name LIKE ? ESCAPE '!' OR request_id = ?)", p, p, p, f.Keyword)
	}
	return q
}

// ListLogs returns one page of logs matching f, newest first. Ordering by
// created_at lets each (filter, created_at) index serve the page by walking
// backwards and stopping after it, where ordering by id made the planner
// read and sort every matching row. The total
// is not counted: at millions of rows a COUNT costs more than the page,
// so more reports whether another page follows.
func (s *Store) ListLogs(ctx context.Context, f LogFilter, offset, limit int) (rows []Log, more bool, err error) {
	q := f.apply(s.LogDB.WithContext(ctx).Model(&Log{}))
	if err := q.Order("created_at desc, id desc").Offset(offset).Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, false, errs.Internal(err)
	}
	if len(rows) > limit {
		return rows[:limit], true, nil
	}
	return rows, false, nil
}

// LogStat sums the logs matching f.
type LogStat struct {
	Quota            int64 `json:"quota"`
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	Token            int64 `json:"token"`
	Count            int64 `json:"count"`
}

// StatLogs sums quota and tokens over the consume logs matching f.
func (s *Store) StatLogs(ctx context.Context, f LogFilter) (LogStat, error) {
	var st LogStat
	if f.Type == 0 {
		f.Type = LogConsume
	}
	q := f.apply(s.LogDB.WithContext(ctx).Model(&Log{}))
	err := q.Select("COALESCE(SUM(quota),0) AS quota, COALESCE(SUM(prompt_tokens),0) AS prompt_tokens, COALESCE(SUM(completion_tokens),0) AS completion_tokens, COUNT(*) AS count").Scan(&st).Error
	if err != nil {
		return st, errs.Internal(err)
	}
	st.Token = st.PromptTokens + st.CompletionTokens
	return st, nil
}

// DeleteLogsBefore removes logs created before ts and returns how many.
func (s *Store) DeleteLogsBefore(ctx context.Context, ts int64) (int64, error) {
	res := s.LogDB.WithContext(ctx).Where("created_at < ?", ts).Delete(&Log{})
	if res.Error != nil {
		return 0, errs.Internal(res.Error)
	}
	return res.RowsAffected, nil
}

// DashboardRow is one (day, model) bucket of consume logs.
type DashboardRow struct {
	Day              int64  `json:"day"`
	ModelName        string `json:"model_name"`
	Requests         int64  `json:"requests"`
	Quota            int64  `json:"quota"`
	PromptTokens     int64  `json:"prompt_tokens"`
	CompletionTokens int64  `json:"completion_tokens"`
}

// Dashboard buckets consume logs since start by UTC day and model, for
// one user or (userID 0) everyone. Day is the bucket's start, unix seconds.
func (s *Store) Dashboard(ctx context.Context, userID int, start int64) ([]DashboardRow, error) {
	var rows []DashboardRow
	q := s.LogDB.WithContext(ctx).Model(&Log{}).Where("type = ? AND created_at >= ?", LogConsume, start)
	if userID != 0 {
		q = q.Where("user_id = ?", userID)
	}
	// created_at - created_at % 86400 is integer arithmetic on all three
	// databases (MySQL's "/" would give a decimal).
	err := q.Select("created_at - created_at % 86400 AS day, model_name, COUNT(*) AS requests, COALESCE(SUM(quota),0) AS quota, " +
		"COALESCE(SUM(prompt_tokens),0) AS prompt_tokens, COALESCE(SUM(completion_tokens),0) AS completion_tokens").
		Group("day, model_name").Order("day, model_name").Scan(&rows).Error
	if err != nil {
		return nil, errs.Internal(err)
	}
	return rows, nil
}
