package model

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"switchyard/common/errs"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Option is one row of the options table: a runtime setting by One API's name.
type Option struct {
	Key   string `gorm:"primaryKey;size:64" json:"key"`
	Value string `gorm:"type:text" json:"value"`
}

func init() { registerModels(&Option{}) }

// OptionKind is the type an option's value must parse as.
type OptionKind int

// Option kinds.
const (
	OptBool OptionKind = iota
	OptInt
	OptFloat
	OptString
	OptJSON
)

// OptionDef describes one known option.
type OptionDef struct {
	Kind    OptionKind
	Default string
	// Secret options are never returned by the API.
	Secret bool
	// Min bounds OptInt and OptFloat values from below.
	Min float64
	// Check validates the value beyond its kind (JSON shapes, ranges).
	Check func(string) error
}

// optionDefs is the registry of every option Switchyard knows. Unknown keys
// are refused. Files that own a feature add their options from init.
var optionDefs = map[string]OptionDef{}

// defineOptions adds option definitions; called from init only.
func defineOptions(defs map[string]OptionDef) {
	for k, d := range defs {
		if _, dup := optionDefs[k]; dup {
			panic("option defined twice: " + k)
		}
		optionDefs[k] = d
	}
}

// OptionDefOf returns the definition of key.
func OptionDefOf(key string) (OptionDef, bool) { d, ok := optionDefs[key]; return d, ok }

// validateOption checks value against key's definition.
func validateOption(key, value string) error {
	d, ok := optionDefs[key]
	if !ok {
		return fmt.Errorf("unknown option %q", key)
	}
	switch d.Kind {
	case OptBool:
		if value != "true" && value != "false" {
			return fmt.Errorf("option %s takes true or false", key)
		}
	case OptInt:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return fmt.Errorf("option %s takes a whole number", key)
		}
		if float64(n) < d.Min {
			return fmt.Errorf("option %s must be at least %v", key, d.Min)
		}
	case OptFloat:
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("option %s takes a number", key)
		}
		if f < d.Min {
			return fmt.Errorf("option %s must be at least %v", key, d.Min)
		}
	case OptJSON:
		if !json.Valid([]byte(value)) {
			return fmt.Errorf("option %s takes valid JSON", key)
		}
	}
	if d.Check != nil {
		if err := d.Check(value); err != nil {
			return fmt.Errorf("option %s: %w", key, err)
		}
	}
	return nil
}

// OptionSnapshot is an immutable view of every option. Readers get one with
// Options.Get and never lock; a change builds a new snapshot and swaps it.
type OptionSnapshot struct {
	raw map[string]string
	// parsed is what the snapshot's text reads as, typed (option_parsed.go).
	parsed Parsed
}

// String returns the raw value of key ("" for unknown keys).
func (o *OptionSnapshot) String(key string) string { return o.raw[key] }

// Bool returns key as a boolean.
func (o *OptionSnapshot) Bool(key string) bool { return o.raw[key] == "true" }

// Int returns key as an integer.
func (o *OptionSnapshot) Int(key string) int64 {
	n, _ := strconv.ParseInt(o.raw[key], 10, 64)
	return n
}

// Float returns key as a float.
func (o *OptionSnapshot) Float(key string) float64 {
	f, _ := strconv.ParseFloat(o.raw[key], 64)
	return f
}

func newSnapshot(raw map[string]string) *OptionSnapshot {
	s := &OptionSnapshot{raw: raw}
	s.parsed = parseOptions(s)
	return s
}

// Options holds the current snapshot and writes changes through.
type Options struct {
	db   *gorm.DB
	bus  *Bus
	cur  atomic.Pointer[OptionSnapshot]
	mu   sync.Mutex // serialises writers; readers never take it
	hook []func(*OptionSnapshot)
}

func loadOptions(ctx context.Context, db *gorm.DB, bus *Bus) (*Options, error) {
	o := &Options{db: db, bus: bus}
	if err := o.Reload(ctx); err != nil {
		return nil, err
	}
	bus.Subscribe(TopicOptions, func(string) {
		if err := o.Reload(context.Background()); err != nil {
			logf("options reload failed", "err", err)
		}
	})
	return o, nil
}

// Get returns the current snapshot.
func (o *Options) Get() *OptionSnapshot { return o.cur.Load() }

// OnChange registers f to run after every swap (for caches keyed on options).
func (o *Options) OnChange(f func(*OptionSnapshot)) {
	o.mu.Lock()
	o.hook = append(o.hook, f)
	o.mu.Unlock()
}

// Reload reads every option from the database into a new snapshot. Rows
// with unknown keys or invalid values (left by another version) are
// ignored in favour of the default.
func (o *Options) Reload(ctx context.Context) error {
	var rows []Option
	if err := o.db.WithContext(ctx).Find(&rows).Error; err != nil {
		return fmt.Errorf("load options: %w", err)
	}
	raw := make(map[string]string, len(optionDefs))
	for k, d := range optionDefs {
		raw[k] = d.Default
	}
	for _, r := range rows {
		if validateOption(r.Key, r.Value) == nil {
			raw[r.Key] = r.Value
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	snap := newSnapshot(raw)
	o.cur.Store(snap)
	for _, f := range o.hook {
		f(snap)
	}
	return nil
}

// Set validates and stores one option, then swaps the snapshot here and
// invalidates it on every node.
func (o *Options) Set(ctx context.Context, key, value string) error {
	return o.SetMany(ctx, map[string]string{key: value})
}

// SetMany stores several options in one transaction: all or none.
func (o *Options) SetMany(ctx context.Context, kv map[string]string) error {
	for k, v := range kv {
		if err := validateOption(k, v); err != nil {
			return errs.BadRequest("%s", err.Error())
		}
	}
	err := o.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for k, v := range kv {
			row := Option{Key: k, Value: v}
			if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}}, DoUpdates: clause.AssignmentColumns([]string{"value"})}).Create(&row).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save options: %w", err)
	}
	if err := o.Reload(ctx); err != nil {
		return err
	}
	o.bus.Publish(ctx, TopicOptions, "*")
	return nil
}

// Public lists every option that may be shown (secrets left out), sorted.
func (o *Options) Public() []Option {
	snap := o.Get()
	out := make([]Option, 0, len(snap.raw))
	for k, v := range snap.raw {
		if optionDefs[k].Secret {
			continue
		}
		out = append(out, Option{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
