// extract-corpus regenerates parser/test/corpus/*.jsonl from a Prometheus source checkout.
//
// It reads promql/parser/parse_test.go, printer_test.go and lex_test.go (and functions.go, for the list of
// experimental functions) as Go syntax only: nothing of Prometheus is compiled or run, so no Go modules are
// needed. The literal fields of each test table element are evaluated by a small constant evaluator that knows
// string literals, `+`, strings.Repeat, fmt.Sprintf, errors.New, fmt.Errorf, float64(...), math.MaxInt64/MinInt64,
// the ParseErrors/ParseErr/PositionRange composites and the test file's repeatError helper. Anything else in a
// field the corpus needs is an error, so a newer Prometheus that writes its tables differently is noticed rather
// than silently mis-extracted.
//
// Usage (see extract-corpus.sh): go run extract-corpus.go -prometheus CHECKOUT -out DIR
package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Parser options in the order the corpus lists them in `requires`.
const (
	optExperimentalFunctions = "EnableExperimentalFunctions"
	optDurationExpr          = "ExperimentalDurationExpr"
	optExtendedRange         = "EnableExtendedRangeSelectors"
	optFillModifiers         = "EnableBinopFillModifiers"
)

var optionOrder = []string{optExperimentalFunctions, optDurationExpr, optExtendedRange, optFillModifiers}

// The functions that are written inside durations (`foo[step()]`, `offset min_of(...)`): they need the
// duration-expression option rather than the experimental-functions one.
var durationFunctions = map[string]bool{"step": true, "range": true, "min_of": true, "max_of": true}

func main() {
	promDir := flag.String("prometheus", "", "a Prometheus source checkout (holding promql/parser/*_test.go)")
	outDir := flag.String("out", "", "where to write promql-parse.jsonl, promql-print.jsonl and promql-lex.jsonl")
	flag.Parse()
	if *promDir == "" || *outDir == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*promDir, *outDir); err != nil {
		fmt.Fprintln(os.Stderr, "extract-corpus:", err)
		os.Exit(1)
	}
}

func run(promDir, outDir string) error {
	dir := filepath.Join(promDir, "promql", "parser")
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, name := range []string{"parse_test.go", "printer_test.go", "lex_test.go", "functions.go"} {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return err
		}
		files[name] = f
	}
	x := &extractor{fset: fset, files: files}
	if err := x.readExperimentalFunctions(); err != nil {
		return err
	}
	if err := x.readHelpers(); err != nil {
		return err
	}

	outputs := []struct {
		name    string
		extract func() ([]record, error)
	}{
		{"promql-parse.jsonl", x.parseCases},
		{"promql-print.jsonl", x.printCases},
		{"promql-lex.jsonl", x.lexCases},
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	for _, o := range outputs {
		recs, err := o.extract()
		if err != nil {
			return fmt.Errorf("%s: %w", o.name, err)
		}
		var buf bytes.Buffer
		for _, r := range recs {
			buf.WriteString(r.json())
			buf.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(outDir, o.name), buf.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s: %d records\n", o.name, len(recs))
	}
	return nil
}

type extractor struct {
	fset         *token.FileSet
	files        map[string]*ast.File
	experimental map[string]bool
	repeatParams []string // parameter names of parse_test.go's repeatError helper
}

// ---------------------------------------------------------------------------------------------------------------
// Records and their JSON, written the way Python's json.dumps(..., ensure_ascii=False) writes it (the format the
// corpus has had from the start): ", " and ": " separators, keys in a fixed order, non-ASCII text as is.

type field struct {
	key   string
	value any
}

type record []field

func (r *record) add(key string, value any) { *r = append(*r, field{key, value}) }

func (r record) json() string {
	var b strings.Builder
	writeJSON(&b, r)
	return b.String()
}

func writeJSON(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case string:
		writeJSONString(b, v)
	case []string:
		b.WriteByte('[')
		for i, s := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSONString(b, s)
		}
		b.WriteByte(']')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case record:
		b.WriteByte('{')
		for i, f := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSONString(b, f.key)
			b.WriteString(": ")
			writeJSON(b, f.value)
		}
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("no JSON for %T", v))
	}
}

func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// utf8Text: the text as valid UTF-8 and, when the bytes are not UTF-8, false and the exact bytes in base64.
func utf8Text(s string) (text string, valid bool, b64 string) {
	if utf8.ValidString(s) {
		return s, true, ""
	}
	return replaceInvalidUTF8(s), false, base64.StdEncoding.EncodeToString([]byte(s))
}

// replaceInvalidUTF8 replaces each maximal ill-formed subsequence by U+FFFD (Unicode's recommended practice,
// which is also what Python's "replace" error handler does).
func replaceInvalidUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || n > 1 {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		i += maximalSubpart(s[i:])
		b.WriteRune(utf8.RuneError)
	}
	return b.String()
}

func maximalSubpart(s string) int {
	c := s[0]
	need, lo, hi := 0, byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(s); n++ {
		if s[n] < lo || s[n] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return n
}

// ---------------------------------------------------------------------------------------------------------------
// promql-parse.jsonl

func (x *extractor) parseCases() ([]record, error) {
	var recs []record
	f := x.files["parse_test.go"]

	// The big table, run by TestParseExpressions.
	table, err := x.varComposite(f, "testExpr")
	if err != nil {
		return nil, err
	}
	opts, err := x.parserOptions(f, "TestParseExpressions")
	if err != nil {
		return nil, err
	}
	for _, el := range table.Elts {
		kv, err := keyed(el)
		if err != nil {
			return nil, x.errAt(el, err)
		}
		r, err := x.parseRecord(kv, "parse_test.go", "TestParseExpressions", opts)
		if err != nil {
			return nil, x.errAt(el, err)
		}
		recs = append(recs, r)
	}

	// TestExtractSelectors: a positional table of {input, expected selectors}; every input parses.
	more, err := x.rangeTableInputs(f, "TestExtractSelectors", "input")
	if err != nil {
		return nil, err
	}
	recs = append(recs, more...)

	// Tests that call ParseExpr on a literal and then require an error or none.
	for _, fn := range []string{"TestNaNExpression", "TestNewParser"} {
		more, err := x.directParseCalls(f, "parse_test.go", fn)
		if err != nil {
			return nil, err
		}
		recs = append(recs, more...)
	}

	// BenchmarkExprString's inputs: a []string that every element of which parses.
	more, err = x.benchmarkInputs()
	if err != nil {
		return nil, err
	}
	return append(recs, more...), nil
}

func (x *extractor) parseRecord(kv map[string]ast.Expr, file, test string, opts []string) (record, error) {
	inExpr, ok := kv["input"]
	if !ok {
		return nil, errors.New("table element without input")
	}
	input, err := x.evalString(inExpr)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	fail := false
	if e, ok := kv["fail"]; ok {
		if fail, err = x.evalBool(e); err != nil {
			return nil, fmt.Errorf("fail: %w", err)
		}
	}
	var errs errorList
	if e, ok := kv["errors"]; ok {
		if errs, err = x.evalErrors(e); err != nil {
			return nil, fmt.Errorf("errors: %w", err)
		}
	}

	var r record
	text, valid, b64 := utf8Text(input)
	r.add("input", text)
	r.add("fail", fail)
	if first, ok := errs.first(); ok {
		r.add("error", validText(first))
	} else {
		r.add("error", nil)
	}
	r.add("requires", requires(input, x.experimental))
	r.add("source", x.source(file, inExpr))
	if !valid {
		r.add("invalid_utf8", true)
		r.add("input_b64", b64)
	}
	if _, present := kv["errors"]; present {
		if errs.generated() {
			groups := []any{}
			total := 0
			for _, g := range errs {
				var gr record
				gr.add("msg", validText(g.msg))
				gr.add("count", g.count)
				var first record
				first.add("start", g.start)
				first.add("end", g.end)
				gr.add("first", first)
				gr.add("start_step", g.startStep)
				gr.add("end_step", g.endStep)
				groups = append(groups, gr)
				total += int(g.count)
			}
			r.add("errors_generated", groups)
			r.add("errors_count", total)
		} else {
			list := []any{}
			for _, e := range errs {
				var er record
				er.add("msg", validText(e.msg))
				er.add("start", e.start)
				er.add("end", e.end)
				list = append(list, er)
			}
			r.add("errors", list)
		}
	}
	r.add("test", test)
	r.add("parser_options", opts)
	if containsCall(inExpr) {
		r.add("constructed", x.sourceText(inExpr))
	}
	if e, ok := kv["expected"]; ok && !fail {
		if node, lit := nodeType(e); node != "" {
			if node == "StringLiteral" {
				if val, ok := keyedField(lit, "Val"); ok {
					s, err := x.evalString(val)
					if err != nil {
						return nil, fmt.Errorf("expected StringLiteral Val: %w", err)
					}
					text, valid, b64 := utf8Text(s)
					r.add("expected_string", text)
					if !valid {
						r.add("expected_string_b64", b64)
					}
				}
			}
			r.add("expected_node", node)
		}
	}
	return r, nil
}

func simpleParseRecord(input, source, test string, fail bool, opts []string, experimental map[string]bool) record {
	var r record
	text, valid, b64 := utf8Text(input)
	r.add("input", text)
	r.add("fail", fail)
	r.add("error", nil)
	r.add("requires", requires(input, experimental))
	r.add("source", source)
	if !valid {
		r.add("invalid_utf8", true)
		r.add("input_b64", b64)
	}
	r.add("test", test)
	r.add("parser_options", opts)
	return r
}

// rangeTableInputs reads `for _, tc := range [...]struct{...}{...}` in fn: the field named `field` of each element.
func (x *extractor) rangeTableInputs(f *ast.File, fn, field string) ([]record, error) {
	decl := funcDecl(f, fn)
	if decl == nil {
		return nil, fmt.Errorf("no func %s", fn)
	}
	opts, err := x.parserOptions(f, fn)
	if err != nil {
		return nil, err
	}
	var table *ast.CompositeLit
	ast.Inspect(decl.Body, func(n ast.Node) bool {
		if rs, ok := n.(*ast.RangeStmt); ok && table == nil {
			if cl, ok := rs.X.(*ast.CompositeLit); ok {
				table = cl
			}
		}
		return table == nil
	})
	if table == nil {
		return nil, fmt.Errorf("%s: no table ranged over", fn)
	}
	index, err := fieldIndex(table, field)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	var recs []record
	for _, el := range table.Elts {
		cl, ok := el.(*ast.CompositeLit)
		if !ok {
			return nil, x.errAt(el, errors.New("table element is not a composite literal"))
		}
		var e ast.Expr
		if len(cl.Elts) > 0 {
			if _, isKV := cl.Elts[0].(*ast.KeyValueExpr); isKV {
				kv, _ := keyed(cl)
				e = kv[field]
			} else if index < len(cl.Elts) {
				e = cl.Elts[index]
			}
		}
		if e == nil {
			return nil, x.errAt(el, fmt.Errorf("no %s", field))
		}
		input, err := x.evalString(e)
		if err != nil {
			return nil, x.errAt(e, err)
		}
		recs = append(recs, simpleParseRecord(input, x.source("parse_test.go", e), fn, false, opts, x.experimental))
	}
	return recs, nil
}

// directParseCalls finds `... := p.ParseExpr("literal")` in fn and whether the next statement requires an error.
func (x *extractor) directParseCalls(f *ast.File, file, fn string) ([]record, error) {
	decl := funcDecl(f, fn)
	if decl == nil {
		return nil, fmt.Errorf("no func %s", fn)
	}
	opts, err := x.parserOptions(f, fn)
	if err != nil {
		return nil, err
	}
	var recs []record
	stmts := decl.Body.List
	for i, st := range stmts {
		as, ok := st.(*ast.AssignStmt)
		if !ok || len(as.Rhs) != 1 {
			continue
		}
		call, ok := as.Rhs[0].(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			continue
		}
		if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "ParseExpr" {
			continue
		}
		input, err := x.evalString(call.Args[0])
		if err != nil {
			return nil, x.errAt(call, err)
		}
		fail := false
		if i+1 < len(stmts) {
			switch requireName(stmts[i+1]) {
			case "Error", "ErrorContains", "ErrorIs":
				fail = true
			case "NoError":
			default:
				return nil, x.errAt(stmts[i+1], errors.New("ParseExpr not followed by require.Error/NoError"))
			}
		}
		recs = append(recs, simpleParseRecord(input, x.source(file, call.Args[0]), fn, fail, opts, x.experimental))
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: no ParseExpr calls found", fn)
	}
	return recs, nil
}

func requireName(st ast.Stmt) string {
	es, ok := st.(*ast.ExprStmt)
	if !ok {
		return ""
	}
	call, ok := es.X.(*ast.CallExpr)
	if !ok {
		return ""
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "require" {
		return ""
	}
	return sel.Sel.Name
}

func (x *extractor) benchmarkInputs() ([]record, error) {
	f := x.files["printer_test.go"]
	const fn = "BenchmarkExprString"
	table, err := x.localComposite(f, fn, "inputs")
	if err != nil {
		return nil, err
	}
	opts, err := x.parserOptions(f, fn)
	if err != nil {
		return nil, err
	}
	var recs []record
	for _, el := range table.Elts {
		input, err := x.evalString(el)
		if err != nil {
			return nil, x.errAt(el, err)
		}
		recs = append(recs, simpleParseRecord(input, x.source("printer_test.go", el), fn, false, opts, x.experimental))
	}
	return recs, nil
}

// ---------------------------------------------------------------------------------------------------------------
// promql-print.jsonl

func (x *extractor) printCases() ([]record, error) {
	f := x.files["printer_test.go"]
	var recs []record
	tables := []struct{ fn, table, in, out string }{
		{"TestExprString", "inputs", "in", "out"},
		{"TestBinaryExprUTF8Labels", "testCases", "input", "expected"},
	}
	for _, t := range tables {
		table, err := x.localComposite(f, t.fn, t.table)
		if err != nil {
			return nil, err
		}
		opts, err := x.parserOptions(f, t.fn)
		if err != nil {
			return nil, err
		}
		for _, el := range table.Elts {
			kv, err := keyed(el)
			if err != nil {
				return nil, x.errAt(el, err)
			}
			inExpr, ok := kv[t.in]
			if !ok {
				return nil, x.errAt(el, fmt.Errorf("no %s", t.in))
			}
			in, err := x.evalString(inExpr)
			if err != nil {
				return nil, x.errAt(inExpr, err)
			}
			out, given := in, false
			if e, ok := kv[t.out]; ok {
				if out, err = x.evalString(e); err != nil {
					return nil, x.errAt(e, err)
				}
				given = true
			}
			// TestExprString: an empty out means "prints as the input".
			if given && out == "" && t.fn == "TestExprString" {
				out, given = in, false
			}
			var r record
			r.add("input", validText(in))
			r.add("output", validText(out))
			r.add("requires", requires(in, x.experimental))
			r.add("source", x.source("printer_test.go", inExpr))
			r.add("test", t.fn)
			r.add("output_given", given)
			r.add("parser_options", opts)
			recs = append(recs, r)
		}
	}
	return recs, nil
}

// ---------------------------------------------------------------------------------------------------------------
// promql-lex.jsonl

func (x *extractor) lexCases() ([]record, error) {
	f := x.files["lex_test.go"]
	groups, err := x.varComposite(f, "tests")
	if err != nil {
		return nil, err
	}
	var recs []record
	for _, g := range groups.Elts {
		gkv, err := keyed(g)
		if err != nil {
			return nil, x.errAt(g, err)
		}
		name, err := x.evalString(gkv["name"])
		if err != nil {
			return nil, x.errAt(g, fmt.Errorf("group name: %w", err))
		}
		cases, ok := gkv["tests"].(*ast.CompositeLit)
		if !ok {
			return nil, x.errAt(g, errors.New("group tests is not a composite literal"))
		}
		for _, c := range cases.Elts {
			kv, err := keyed(c)
			if err != nil {
				return nil, x.errAt(c, err)
			}
			inExpr, ok := kv["input"]
			if !ok {
				return nil, x.errAt(c, errors.New("lexer case without input"))
			}
			input, err := x.evalString(inExpr)
			if err != nil {
				return nil, x.errAt(inExpr, err)
			}
			fail, seriesDesc := false, false
			if e, ok := kv["fail"]; ok {
				if fail, err = x.evalBool(e); err != nil {
					return nil, x.errAt(e, err)
				}
			}
			if e, ok := kv["seriesDesc"]; ok {
				if seriesDesc, err = x.evalBool(e); err != nil {
					return nil, x.errAt(e, err)
				}
			}
			var tokens any // null when the case gives no expected items
			if e, ok := kv["expected"]; ok {
				if tokens, err = x.items(e); err != nil {
					return nil, x.errAt(e, err)
				}
			}
			var r record
			text, valid, b64 := utf8Text(input)
			r.add("input", text)
			r.add("fail", fail)
			r.add("series_desc", seriesDesc)
			r.add("tokens", tokens)
			r.add("source", x.source("lex_test.go", inExpr))
			r.add("group", name)
			if !valid {
				r.add("invalid_utf8", true)
				r.add("input_b64", b64)
			}
			recs = append(recs, r)
		}
	}
	return recs, nil
}

// items reads []Item{{TYPE, pos, "value"}, ...} as [["TYPE", pos, "value"], ...].
func (x *extractor) items(e ast.Expr) (any, error) {
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil, errors.New("expected items are not a composite literal")
	}
	out := []any{}
	for _, el := range cl.Elts {
		item, ok := el.(*ast.CompositeLit)
		if !ok {
			return nil, x.errAt(el, errors.New("item is not a composite literal"))
		}
		var typ, pos, val ast.Expr
		if len(item.Elts) == 3 {
			if _, isKV := item.Elts[0].(*ast.KeyValueExpr); !isKV {
				typ, pos, val = item.Elts[0], item.Elts[1], item.Elts[2]
			}
		}
		if typ == nil {
			kv, err := keyed(item)
			if err != nil {
				return nil, x.errAt(el, err)
			}
			typ, pos, val = kv["Typ"], kv["Pos"], kv["Val"]
		}
		id, ok := typ.(*ast.Ident)
		if !ok {
			return nil, x.errAt(el, errors.New("item type is not an identifier"))
		}
		p := int64(0)
		if pos != nil {
			v, err := x.eval(pos)
			if err != nil {
				return nil, x.errAt(pos, err)
			}
			if p, ok = v.(int64); !ok {
				return nil, x.errAt(pos, errors.New("item position is not an integer"))
			}
		}
		s := ""
		if val != nil {
			var err error
			if s, err = x.evalString(val); err != nil {
				return nil, x.errAt(val, err)
			}
		}
		out = append(out, []any{id.Name, p, validText(s)})
	}
	return out, nil
}

// ---------------------------------------------------------------------------------------------------------------
// Finding things in the syntax trees

func funcDecl(f *ast.File, name string) *ast.FuncDecl {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == name {
			return fd
		}
	}
	return nil
}

func (x *extractor) varComposite(f *ast.File, name string) (*ast.CompositeLit, error) {
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if n.Name == name && i < len(vs.Values) {
					if cl, ok := vs.Values[i].(*ast.CompositeLit); ok {
						return cl, nil
					}
				}
			}
		}
	}
	return nil, fmt.Errorf("no package-level var %s = composite literal", name)
}

// localComposite finds `name := <composite literal>` in function fn.
func (x *extractor) localComposite(f *ast.File, fn, name string) (*ast.CompositeLit, error) {
	decl := funcDecl(f, fn)
	if decl == nil {
		return nil, fmt.Errorf("no func %s", fn)
	}
	var found *ast.CompositeLit
	ast.Inspect(decl.Body, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok || found != nil {
			return found == nil
		}
		for i, l := range as.Lhs {
			if id, ok := l.(*ast.Ident); ok && id.Name == name && i < len(as.Rhs) {
				if cl, ok := as.Rhs[i].(*ast.CompositeLit); ok {
					found = cl
				}
			}
		}
		return found == nil
	})
	if found == nil {
		return nil, fmt.Errorf("%s: no %s := composite literal", fn, name)
	}
	return found, nil
}

// fieldIndex is the position of a field in the struct type of a table ([...]struct{a, b T}).
func fieldIndex(table *ast.CompositeLit, field string) (int, error) {
	var st *ast.StructType
	switch t := table.Type.(type) {
	case *ast.ArrayType:
		st, _ = t.Elt.(*ast.StructType)
	}
	if st == nil {
		return 0, errors.New("table is not a slice/array of an inline struct")
	}
	i := 0
	for _, fl := range st.Fields.List {
		for _, n := range fl.Names {
			if n.Name == field {
				return i, nil
			}
			i++
		}
	}
	return 0, fmt.Errorf("table struct has no field %s", field)
}

// parserOptions: the options enabled by `NewParser(Options{...})` in fn, else those of the package's testParser.
func (x *extractor) parserOptions(f *ast.File, fn string) ([]string, error) {
	decl := funcDecl(f, fn)
	if decl == nil {
		return nil, fmt.Errorf("no func %s", fn)
	}
	if opts := newParserOptions(decl.Body); opts != nil {
		return x.enabledOptions(opts)
	}
	// The package-level testParser lives in parse_test.go.
	for _, d := range x.files["parse_test.go"].Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if n.Name == "testParser" && i < len(vs.Values) {
					if opts := newParserOptions(vs.Values[i]); opts != nil {
						return x.enabledOptions(opts)
					}
				}
			}
		}
	}
	return nil, fmt.Errorf("%s: no NewParser(Options{...}) and no testParser", fn)
}

func newParserOptions(n ast.Node) *ast.CompositeLit {
	var found *ast.CompositeLit
	ast.Inspect(n, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || found != nil {
			return found == nil
		}
		if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "NewParser" && len(call.Args) == 1 {
			if cl, ok := call.Args[0].(*ast.CompositeLit); ok {
				found = cl
			}
		}
		return found == nil
	})
	return found
}

func (x *extractor) enabledOptions(cl *ast.CompositeLit) ([]string, error) {
	opts := []string{}
	for _, el := range cl.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			return nil, x.errAt(el, errors.New("parser options are not keyed"))
		}
		on, err := x.evalBool(kv.Value)
		if err != nil {
			return nil, x.errAt(el, err)
		}
		if on {
			opts = append(opts, kv.Key.(*ast.Ident).Name)
		}
	}
	return opts, nil
}

// readExperimentalFunctions: the names in functions.go's Functions map whose entry says Experimental: true.
func (x *extractor) readExperimentalFunctions() error {
	x.experimental = map[string]bool{}
	cl, err := x.varComposite(x.files["functions.go"], "Functions")
	if err != nil {
		return fmt.Errorf("functions.go: %w", err)
	}
	for _, el := range cl.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		name, err := x.evalString(kv.Key)
		if err != nil {
			return x.errAt(kv.Key, err)
		}
		def, ok := kv.Value.(*ast.CompositeLit)
		if !ok {
			if u, ok := kv.Value.(*ast.UnaryExpr); ok {
				def, _ = u.X.(*ast.CompositeLit)
			}
		}
		if def == nil {
			continue
		}
		if e, ok := keyedField(def, "Experimental"); ok {
			if on, err := x.evalBool(e); err == nil && on {
				x.experimental[name] = true
			}
		}
	}
	if len(x.experimental) == 0 {
		return errors.New("functions.go: no experimental functions found")
	}
	return nil
}

func (x *extractor) readHelpers() error {
	decl := funcDecl(x.files["parse_test.go"], "repeatError")
	if decl == nil {
		return nil // only needed if a table calls it
	}
	for _, fl := range decl.Type.Params.List {
		for _, n := range fl.Names {
			x.repeatParams = append(x.repeatParams, n.Name)
		}
	}
	return nil
}

func keyed(e ast.Expr) (map[string]ast.Expr, error) {
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil, errors.New("not a composite literal")
	}
	kv := map[string]ast.Expr{}
	for _, el := range cl.Elts {
		p, ok := el.(*ast.KeyValueExpr)
		if !ok {
			return nil, errors.New("composite literal is not keyed")
		}
		id, ok := p.Key.(*ast.Ident)
		if !ok {
			return nil, errors.New("key is not an identifier")
		}
		kv[id.Name] = p.Value
	}
	return kv, nil
}

func keyedField(cl *ast.CompositeLit, name string) (ast.Expr, bool) {
	for _, el := range cl.Elts {
		if p, ok := el.(*ast.KeyValueExpr); ok {
			if id, ok := p.Key.(*ast.Ident); ok && id.Name == name {
				return p.Value, true
			}
		}
	}
	return nil, false
}

// nodeType of `&X{...}` or `X{...}`: "X" and the literal.
func nodeType(e ast.Expr) (string, *ast.CompositeLit) {
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		e = u.X
	}
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		return "", nil
	}
	switch t := cl.Type.(type) {
	case *ast.Ident:
		return t.Name, cl
	case *ast.SelectorExpr:
		return t.Sel.Name, cl
	}
	return "", nil
}

func containsCall(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if _, ok := n.(*ast.CallExpr); ok {
			found = true
		}
		return !found
	})
	return found
}

func (x *extractor) source(file string, n ast.Node) string {
	return fmt.Sprintf("%s:%d", file, x.fset.Position(n.Pos()).Line)
}

func (x *extractor) sourceText(n ast.Node) string {
	p, e := x.fset.Position(n.Pos()), x.fset.Position(n.End())
	data, err := os.ReadFile(p.Filename)
	if err != nil {
		return ""
	}
	return string(data[p.Offset:e.Offset])
}

func (x *extractor) errAt(n ast.Node, err error) error {
	p := x.fset.Position(n.Pos())
	return fmt.Errorf("%s:%d: %w", filepath.Base(p.Filename), p.Line, err)
}

func validText(s string) string {
	t, _, _ := utf8Text(s)
	return t
}

// ---------------------------------------------------------------------------------------------------------------
// The constant evaluator

type parseError struct {
	msg                string
	start, end         int64
	count              int64 // 1 for a single error; >1 (or generated) for a repeatError group
	startStep, endStep int64
	fromRepeat         bool
}

type errorList []parseError

func (l errorList) first() (string, bool) {
	if len(l) == 0 {
		return "", false
	}
	return l[0].msg, true
}

func (l errorList) generated() bool {
	for _, e := range l {
		if e.fromRepeat {
			return true
		}
	}
	return false
}

func (x *extractor) evalString(e ast.Expr) (string, error) {
	v, err := x.eval(e)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", x.errAt(e, fmt.Errorf("not a string: %s", x.sourceText(e)))
	}
	return s, nil
}

func (x *extractor) evalBool(e ast.Expr) (bool, error) {
	v, err := x.eval(e)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, x.errAt(e, fmt.Errorf("not a bool: %s", x.sourceText(e)))
	}
	return b, nil
}

func (x *extractor) evalInt(e ast.Expr) (int64, error) {
	v, err := x.eval(e)
	if err != nil {
		return 0, err
	}
	i, ok := v.(int64)
	if !ok {
		return 0, x.errAt(e, fmt.Errorf("not an integer: %s", x.sourceText(e)))
	}
	return i, nil
}

func (x *extractor) eval(e ast.Expr) (any, error) {
	unsupported := func() (any, error) {
		return nil, x.errAt(e, fmt.Errorf("cannot evaluate %s", x.sourceText(e)))
	}
	switch e := e.(type) {
	case *ast.BasicLit:
		switch e.Kind {
		case token.STRING, token.CHAR:
			s, err := strconv.Unquote(e.Value)
			if err != nil {
				return nil, x.errAt(e, err)
			}
			return s, nil
		case token.INT:
			return strconv.ParseInt(strings.ReplaceAll(e.Value, "_", ""), 0, 64)
		case token.FLOAT:
			return strconv.ParseFloat(strings.ReplaceAll(e.Value, "_", ""), 64)
		}
	case *ast.Ident:
		switch e.Name {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	case *ast.ParenExpr:
		return x.eval(e.X)
	case *ast.SelectorExpr:
		if pkg, ok := e.X.(*ast.Ident); ok && pkg.Name == "math" {
			switch e.Sel.Name {
			case "MaxInt64":
				return int64(math.MaxInt64), nil
			case "MinInt64":
				return int64(math.MinInt64), nil
			}
		}
	case *ast.UnaryExpr:
		v, err := x.eval(e.X)
		if err != nil {
			return nil, err
		}
		switch e.Op {
		case token.SUB:
			switch v := v.(type) {
			case int64:
				return -v, nil
			case float64:
				return -v, nil
			}
		case token.ADD:
			return v, nil
		}
	case *ast.BinaryExpr:
		l, err := x.eval(e.X)
		if err != nil {
			return nil, err
		}
		r, err := x.eval(e.Y)
		if err != nil {
			return nil, err
		}
		if v, ok := binary(e.Op, l, r); ok {
			return v, nil
		}
	case *ast.CallExpr:
		return x.evalCall(e)
	case *ast.CompositeLit:
		if name, _ := nodeType(e); name == "ParseErrors" {
			return x.evalErrors(e)
		}
	}
	return unsupported()
}

func binary(op token.Token, l, r any) (any, bool) {
	// Untyped constants: an integer meeting a float becomes a float.
	if li, ok := l.(int64); ok {
		if _, ok := r.(float64); ok {
			l = float64(li)
		}
	}
	if ri, ok := r.(int64); ok {
		if _, ok := l.(float64); ok {
			r = float64(ri)
		}
	}
	switch l := l.(type) {
	case string:
		if r, ok := r.(string); ok && op == token.ADD {
			return l + r, true
		}
	case int64:
		r, ok := r.(int64)
		if !ok {
			return nil, false
		}
		switch op {
		case token.ADD:
			return l + r, true
		case token.SUB:
			return l - r, true
		case token.MUL:
			return l * r, true
		}
	case float64:
		r, ok := r.(float64)
		if !ok {
			return nil, false
		}
		switch op {
		case token.ADD:
			return l + r, true
		case token.SUB:
			return l - r, true
		case token.MUL:
			return l * r, true
		case token.QUO:
			return l / r, true
		}
	}
	return nil, false
}

func calleeName(call *ast.CallExpr) string {
	switch f := call.Fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		if pkg, ok := f.X.(*ast.Ident); ok {
			return pkg.Name + "." + f.Sel.Name
		}
	}
	return ""
}

func (x *extractor) evalCall(call *ast.CallExpr) (any, error) {
	args := func() ([]any, error) {
		var vs []any
		for _, a := range call.Args {
			v, err := x.eval(a)
			if err != nil {
				return nil, err
			}
			vs = append(vs, v)
		}
		return vs, nil
	}
	switch calleeName(call) {
	case "strings.Repeat":
		if len(call.Args) == 2 {
			s, err := x.evalString(call.Args[0])
			if err != nil {
				return nil, err
			}
			n, err := x.evalInt(call.Args[1])
			if err != nil {
				return nil, err
			}
			return strings.Repeat(s, int(n)), nil
		}
	case "fmt.Sprintf", "fmt.Errorf":
		if len(call.Args) >= 1 {
			format, err := x.evalString(call.Args[0])
			if err != nil {
				return nil, err
			}
			vs, err := args()
			if err != nil {
				return nil, err
			}
			return fmt.Sprintf(format, vs[1:]...), nil
		}
	case "errors.New":
		if len(call.Args) == 1 {
			return x.evalString(call.Args[0])
		}
	case "float64":
		if len(call.Args) == 1 {
			v, err := x.eval(call.Args[0])
			if err != nil {
				return nil, err
			}
			switch v := v.(type) {
			case int64:
				return float64(v), nil
			case float64:
				return v, nil
			}
		}
	case "int", "int64", "posrange.Pos":
		if len(call.Args) == 1 {
			return x.evalInt(call.Args[0])
		}
	case "append":
		if len(call.Args) >= 1 {
			base, err := x.evalErrors(call.Args[0])
			if err != nil {
				return nil, err
			}
			for _, a := range call.Args[1:] {
				more, err := x.evalErrors(a)
				if err != nil {
					return nil, err
				}
				base = append(base, more...)
			}
			return base, nil
		}
	case "repeatError":
		return x.repeatError(call)
	}
	return nil, x.errAt(call, fmt.Errorf("cannot evaluate %s", x.sourceText(call)))
}

// repeatError(query, err, start, startStep, end, endStep, count): count errors whose positions step along.
func (x *extractor) repeatError(call *ast.CallExpr) (any, error) {
	if len(x.repeatParams) != len(call.Args) {
		return nil, x.errAt(call, errors.New("repeatError: unknown signature"))
	}
	arg := map[string]ast.Expr{}
	for i, p := range x.repeatParams {
		arg[p] = call.Args[i]
	}
	for _, p := range []string{"err", "start", "startStep", "end", "endStep", "count"} {
		if arg[p] == nil {
			return nil, x.errAt(call, fmt.Errorf("repeatError: no parameter %s", p))
		}
	}
	msg, err := x.evalString(arg["err"])
	if err != nil {
		return nil, err
	}
	var n [5]int64
	for i, p := range []string{"start", "startStep", "end", "endStep", "count"} {
		if n[i], err = x.evalInt(arg[p]); err != nil {
			return nil, err
		}
	}
	return errorList{{msg: msg, start: n[0], startStep: n[1], end: n[2], endStep: n[3], count: n[4], fromRepeat: true}}, nil
}

// evalErrors reads ParseErrors{ParseErr{PositionRange: ..., Err: ..., Query: ...}, ...} (element types may be elided).
func (x *extractor) evalErrors(e ast.Expr) (errorList, error) {
	if call, ok := e.(*ast.CallExpr); ok {
		v, err := x.evalCall(call)
		if err != nil {
			return nil, err
		}
		l, ok := v.(errorList)
		if !ok {
			return nil, x.errAt(e, errors.New("not a list of parse errors"))
		}
		return l, nil
	}
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil, x.errAt(e, fmt.Errorf("cannot read errors from %s", x.sourceText(e)))
	}
	var out errorList
	for _, el := range cl.Elts {
		kv, err := keyed(el)
		if err != nil {
			return nil, x.errAt(el, err)
		}
		pe := parseError{count: 1}
		errExpr, ok := kv["Err"]
		if !ok {
			return nil, x.errAt(el, errors.New("ParseErr without Err"))
		}
		if pe.msg, err = x.evalString(errExpr); err != nil {
			return nil, err
		}
		if pr, ok := kv["PositionRange"]; ok {
			prkv, err := keyed(pr)
			if err != nil {
				return nil, x.errAt(pr, err)
			}
			if s, ok := prkv["Start"]; ok {
				if pe.start, err = x.evalInt(s); err != nil {
					return nil, err
				}
			}
			if s, ok := prkv["End"]; ok {
				if pe.end, err = x.evalInt(s); err != nil {
					return nil, err
				}
			}
		}
		for k := range kv {
			switch k {
			case "Err", "PositionRange", "Query":
			default:
				return nil, x.errAt(el, fmt.Errorf("ParseErr field %s is not extracted", k))
			}
		}
		out = append(out, pe)
	}
	return out, nil
}

// ---------------------------------------------------------------------------------------------------------------
// requires: a best-effort, purely lexical guess at which optional parser features an input uses.

type lexToken struct {
	kind string // "ident", "number", "string", "op", or the punctuation itself
	text string
}

var keywords = map[string]bool{
	"and": true, "or": true, "unless": true, "by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true, "bool": true, "offset": true,
}

func lexPromQL(s string) []lexToken {
	var toks []lexToken
	isIdent := func(c byte) bool {
		return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if j < len(s) {
				j++
			}
			if j > len(s) {
				j = len(s)
			}
			toks = append(toks, lexToken{"string", s[i:j]})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i
			for j < len(s) && (isIdent(s[j]) && s[j] != ':' || s[j] == '.') {
				j++
			}
			toks = append(toks, lexToken{"number", s[i:j]})
			i = j
		case isIdent(c):
			j := i
			for j < len(s) && isIdent(s[j]) {
				j++
			}
			toks = append(toks, lexToken{"ident", s[i:j]})
			i = j
		case strings.ContainsRune("+-*/%^", rune(c)):
			toks = append(toks, lexToken{"op", s[i : i+1]})
			i++
		case strings.ContainsRune("=!<>", rune(c)):
			j := i + 1
			if j < len(s) && (s[j] == '=' || s[j] == '~') {
				j++
			}
			toks = append(toks, lexToken{"cmp", s[i:j]})
			i = j
		default:
			toks = append(toks, lexToken{s[i : i+1], s[i : i+1]})
			i++
		}
	}
	return toks
}

func requires(input string, experimental map[string]bool) []string {
	toks := lexPromQL(input)
	uses := map[string]bool{}
	at := func(i int) lexToken {
		if i < 0 || i >= len(toks) {
			return lexToken{}
		}
		return toks[i]
	}
	depth := 0 // inside [...]
	for i, t := range toks {
		prev, next := at(i-1), at(i+1)
		switch t.kind {
		case "[":
			depth++
		case "]":
			if depth > 0 {
				depth--
			}
		case "(", "op":
			// Arithmetic or parentheses inside a range/subquery bracket are a duration expression; a bare sign
			// on a number (foo[-1]) is not: that is the plain grammar's signed duration.
			sign := t.kind == "op" && (t.text == "+" || t.text == "-") && (prev.kind == "[" || prev.kind == ":") &&
				next.kind == "number"
			if depth > 0 && !sign {
				uses[optDurationExpr] = true
			}
		case "ident":
			switch {
			case durationFunctions[t.text] && (next.kind == "(" || depth > 0):
				uses[optDurationExpr] = true
			case t.text == "offset":
				// offset (…), offset -(…), offset step(), or offset 5s-8.
				j := i + 1
				if k := at(j); k.kind == "op" && (k.text == "+" || k.text == "-") {
					j++
				}
				switch k := at(j); {
				case k.kind == "(":
					uses[optDurationExpr] = true
				case k.kind == "number" && at(j+1).kind == "op":
					uses[optDurationExpr] = true
				}
			case experimental[t.text] && next.kind == "(" && prev.kind != "@":
				uses[optExperimentalFunctions] = true
			case (t.text == "anchored" || t.text == "smoothed") && next.kind != "{" && next.kind != "(" &&
				(prev.kind == "]" || prev.kind == "}" || prev.kind == "ident" && !keywords[prev.text]):
				uses[optExtendedRange] = true
			case (t.text == "fill" || t.text == "fill_left" || t.text == "fill_right") && next.kind == "(" &&
				(prev.kind == "op" || prev.kind == "cmp" || prev.kind == ")" || prev.kind == "ident" && keywords[prev.text]):
				uses[optFillModifiers] = true
			}
		}
	}
	out := []string{}
	for _, o := range optionOrder {
		if uses[o] {
			out = append(out, o)
		}
	}
	return out
}
