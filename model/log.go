package model

// Log types, as in One API.
const (
	LogTopUp   = 1
	LogConsume = 2
	LogManage  = 3
	LogSystem  = 4
)

// Log is one row of the logs table: a consume record written by the
// ledger for each billed call, or a top-up, manage or system event.
// Quota is what the event moved: charged for consume rows, credited (or,
// for a manage row lowering a balance, negative) for the others.
type Log struct {
	ID               int    `gorm:"primaryKey" json:"id"`
	UserID           int    `gorm:"index:idx_logs_user_time,priority:1" json:"user_id"`
	CreatedAt        int64  `gorm:"index:idx_logs_user_time,priority:2;index:idx_logs_type_time,priority:2;index:idx_logs_model_time,priority:2;index:idx_logs_username_time,priority:2;index:idx_logs_channel_time,priority:2;index" json:"created_at"`
	Type             int    `gorm:"index:idx_logs_type_time,priority:1" json:"type"`
	Content          string `gorm:"type:text" json:"content"`
	Username         string `gorm:"index:idx_logs_username_time,priority:1;size:64;default:''" json:"username"`
	TokenName        string `gorm:"index;size:64;default:''" json:"token_name"`
	TokenID          int    `gorm:"index;default:0" json:"token_id"`
	ModelName        string `gorm:"index:idx_logs_model_time,priority:1;size:128;default:''" json:"model_name"`
	Quota            int64  `gorm:"default:0" json:"quota"`
	PromptTokens     int    `gorm:"default:0" json:"prompt_tokens"`
	CompletionTokens int    `gorm:"default:0" json:"completion_tokens"`
	// CachedTokens and CacheCreationTokens are the prompt tokens that were
	// cache reads and cache writes (both inside PromptTokens);
	// ReasoningTokens are completion tokens spent reasoning (inside
	// CompletionTokens).
	CachedTokens        int    `gorm:"not null;default:0" json:"cached_tokens"`
	CacheCreationTokens int    `gorm:"not null;default:0" json:"cache_creation_tokens"`
	ReasoningTokens     int    `gorm:"not null;default:0" json:"reasoning_tokens"`
	ChannelID           int    `gorm:"column:channel_id;index:idx_logs_channel_time,priority:1;default:0" json:"channel"`
	ElapsedMs           int64  `gorm:"default:0" json:"elapsed_ms"`
	FirstTokenMs        int64  `gorm:"default:0" json:"first_token_ms"`
	IsStream            bool   `gorm:"default:false" json:"is_stream"`
	RequestID           string `gorm:"size:64;default:''" json:"request_id"`
	IP                  string `gorm:"column:ip;size:64;default:''" json:"ip"`
	// Code and Params give a top-up, manage or system row's sentence as a
	// code and a JSON object the console translates (log_detail.go);
	// Content holds the same sentence in English.
	Code   string `gorm:"size:64;not null;default:''" json:"code"`
	Params string `gorm:"type:text" json:"params"`
}

// The indexes pair each filter the console offers with created_at, so a
// filtered page or a sum over a time window reads only its rows; see the
// log-query benchmark in the README.
func init() { registerLogModels(&Log{}) }
