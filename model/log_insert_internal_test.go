package model

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"

	"gorm.io/gorm/schema"
)

// TestLogColumnsMatchTheModel: the flush's own INSERT names every column
// of the Log model but the id, each with its field's value, so a field
// added to Log cannot be silently left out of consume logs.
func TestLogColumnsMatchTheModel(t *testing.T) {
	sch, err := schema.Parse(&Log{}, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, f := range sch.Fields {
		if f.DBName != "" && f.DBName != "id" {
			cols = append(cols, f.DBName)
		}
	}
	if !slices.Equal(cols, logColumns) {
		t.Fatalf("logColumns = %v\nthe model's = %v", logColumns, cols)
	}
	// Every field a distinct value, then each column's value must be its
	// own field's.
	var l Log
	v := reflect.ValueOf(&l).Elem()
	for i := 0; i < v.NumField(); i++ {
		switch f := v.Field(i); f.Kind() {
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(100 + i))
		case reflect.String:
			f.SetString(v.Type().Field(i).Name)
		case reflect.Bool:
			f.SetBool(true)
		}
	}
	vals := logValues(nil, &l)
	if len(vals) != len(logColumns) {
		t.Fatalf("%d values for %d columns", len(vals), len(logColumns))
	}
	for i, c := range logColumns {
		want, _ := sch.LookUpField(c).ValueOf(context.Background(), reflect.ValueOf(&l))
		if !reflect.DeepEqual(vals[i], want) {
			t.Errorf("column %s gets %v, its field holds %v", c, vals[i], want)
		}
	}
}

// TestCheckpointColumnsMatchTheModel: the checkpoint upserts name every
// column of LedgerCheckpoint, each with its field's value.
func TestCheckpointColumnsMatchTheModel(t *testing.T) {
	sch, err := schema.Parse(&LedgerCheckpoint{}, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, f := range sch.Fields {
		if f.DBName != "" {
			cols = append(cols, f.DBName)
		}
	}
	if !slices.Equal(cols, ckptColumns) {
		t.Fatalf("ckptColumns = %v\nthe model's = %v", ckptColumns, cols)
	}
	c := ckptWrite{ID: "id1", Node: "n", UserID: 3, TokenID: 4, Unlimited: true, Cost: 5, Log: "{}", Settled: true}
	row := LedgerCheckpoint{ID: "id1", Node: "n", UserID: 3, TokenID: 4, Unlimited: true, Cost: 5, Log: "{}", Settled: true, UpdatedAt: 6}
	vals := ckptValues(nil, &c, 6)
	for i, col := range ckptColumns {
		want, _ := sch.LookUpField(col).ValueOf(context.Background(), reflect.ValueOf(&row))
		if !reflect.DeepEqual(vals[i], want) {
			t.Errorf("column %s gets %v, its field holds %v", col, vals[i], want)
		}
	}
}
