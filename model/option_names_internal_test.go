package model

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestEveryOptionReadByNameIsDefined: the snapshot's accessors by name
// (Bool, Int, String, Float) read zero for a key nobody defined, so a
// misspelt option name would be a switch that is silently always off.
// Every such read in the tree names a defined option.
func TestEveryOptionReadByNameIsDefined(t *testing.T) {
	accessors := map[string]bool{"Bool": true, "Int": true, "String": true, "Float": true}
	optionName := regexp.MustCompile(`^[A-Z][A-Za-z0-9]+$`)
	fset := token.NewFileSet()
	reads := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "web" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			lit, isLit := call.Args[0].(*ast.BasicLit)
			if !ok || !accessors[sel.Sel.Name] || !isLit || lit.Kind != token.STRING {
				return true
			}
			name, _ := strconv.Unquote(lit.Value)
			if !optionName.MatchString(name) {
				return true
			}
			reads++
			if _, defined := OptionDefOf(name); !defined {
				t.Errorf("%s reads option %q, which is not defined", fset.Position(lit.Pos()), name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if reads < 40 {
		t.Fatalf("found only %d reads of options by name: the scan is not seeing the tree", reads)
	}
}
