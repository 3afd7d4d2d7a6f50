package configs

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts the environment name of every key.
const EnvPrefix = "SERVICEDESK_"

const (
	configFileName   = "servicedesk.yaml"
	systemConfigFile = "/etc/servicedesk/servicedesk.yaml"
	dotEnvFileName   = ".env"
)

// LoadOptions says where Load looks.
type LoadOptions struct {
	// ConfigFile is an explicit --config path, which must exist. Empty
	// searches WorkDir/servicedesk.yaml, WorkDir/configs/servicedesk.yaml
	// and /etc/servicedesk/servicedesk.yaml; none is needed.
	ConfigFile string
	// WorkDir is where .env and the config file are looked for; "" is ".".
	WorkDir string
	// Environ is the environment as KEY=value; nil means os.Environ().
	Environ []string
	// Flags and FlagKeys map command-line flags onto keys, e.g.
	// "database" → "database.url"; only flags the user changed override.
	Flags    *pflag.FlagSet
	FlagKeys map[string]string
}

// EnvName is the environment variable for a key: "mail.port" →
// "SERVICEDESK_MAIL_PORT".
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Load builds the Config from, lowest first: defaults, the config file, the
// .env file in WorkDir, the environment, changed flags. Flask-era variable
// names (DATABASE_URL, MAIL_SERVER, IMAP_HOST, …) are read too, and lose to
// the SERVICEDESK_ name of the same key within the same layer: a real
// DATABASE_URL beats SERVICEDESK_DATABASE_URL from .env. The result is
// validated; every error is a single line naming the key.
func Load(opts LoadOptions) (*Config, error) {
	return load(opts, systemConfigFile)
}

// load takes the system config path so tests do not depend on /etc.
func load(opts LoadOptions, systemFile string) (*Config, error) {
	workDir := opts.WorkDir
	if workDir == "" {
		workDir = "."
	}
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ()
	}
	realEnv := envMap(environ)
	fields := fieldsOf(reflect.TypeOf(Config{}), "")
	l := &loader{v: viper.New(), fields: fields, sources: map[string]string{}, imapVars: map[string]string{}, imapSources: map[string]string{}}

	file, err := findConfigFile(opts.ConfigFile, workDir, systemFile)
	if err != nil {
		return nil, err
	}
	if file != "" {
		if err := l.readFile(file); err != nil {
			return nil, err
		}
	}

	dotEnvPath := filepath.Join(workDir, dotEnvFileName)
	dotEnv, err := readDotEnv(dotEnvPath, realEnv)
	if err != nil {
		return nil, err
	}
	if err := l.applyEnv(dotEnv, " in "+dotEnvPath); err != nil {
		return nil, err
	}
	if err := l.applyEnv(realEnv, ""); err != nil {
		return nil, err
	}
	if err := l.applyFlags(opts.Flags, opts.FlagKeys); err != nil {
		return nil, err
	}

	cfg := Defaults()
	set, derr := decodeStruct(reflect.ValueOf(cfg).Elem(), fields, "", l.v.Get, l.source)
	if derr != nil {
		return nil, derr
	}
	if err := l.imapFallback(cfg); err != nil {
		return nil, err
	}
	resolveDerived(cfg, set)
	cfg.File = file

	if err := cfg.Validate(); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Source == "" {
			e.Source = l.source(e.Key)
		}
		return nil, err
	}
	return cfg, nil
}

// loader stacks the layers in one viper instance: the file as its config,
// then .env, environment and flags through Set, later calls winning.
type loader struct {
	v       *viper.Viper
	fields  []field
	sources map[string]string // key → where its current value came from

	// The IMAP_* variables of the Flask app, merged over layers.
	imapVars    map[string]string
	imapSources map[string]string
}

// source says where the value of key (or of the list holding it) was set.
func (l *loader) source(key string) string {
	if i := strings.IndexByte(key, '['); i >= 0 {
		key = key[:i]
	}
	return l.sources[key]
}

// fileError is a problem with a whole file, kept on one line.
type fileError struct {
	path string
	msg  string
	err  error
}

func (e *fileError) Error() string {
	return oneLine("config: " + e.path + ": " + e.msg)
}

func (e *fileError) Unwrap() error { return e.err }

func findConfigFile(explicit, workDir, systemFile string) (string, error) {
	if explicit != "" {
		st, err := os.Stat(explicit)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", &fileError{path: explicit, msg: "config file does not exist", err: err}
		case err != nil:
			return "", &fileError{path: explicit, msg: err.Error(), err: err}
		case st.IsDir():
			return "", &fileError{path: explicit, msg: "is a directory, want a YAML file"}
		}
		return explicit, nil
	}
	candidates := []string{
		filepath.Join(workDir, configFileName),
		filepath.Join(workDir, "configs", configFileName),
		systemFile,
	}
	for _, p := range candidates {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			// Unreadable rather than absent: silently skipping it would
			// run with settings the operator did not intend.
			return "", &fileError{path: p, msg: err.Error(), err: err}
		}
		if !st.IsDir() {
			return p, nil
		}
	}
	return "", nil
}

func (l *loader) readFile(path string) error {
	l.v.SetConfigFile(path)
	l.v.SetConfigType("yaml")
	if err := l.v.ReadInConfig(); err != nil {
		return &fileError{path: path, msg: strings.TrimPrefix(err.Error(), "While parsing config: "), err: err}
	}
	known := map[string]bool{}
	sections := map[string]bool{}
	for _, f := range l.fields {
		known[f.key] = true
		if i := strings.IndexByte(f.key, '.'); i >= 0 {
			sections[f.key[:i]] = true
		}
	}
	keys := l.v.AllKeys()
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case known[k]:
			l.sources[k] = path
		case sections[k]:
			if val := l.v.Get(k); val != nil {
				if _, ok := val.(map[string]any); !ok {
					return &Error{Key: k, Msg: fmt.Sprintf("want a mapping of %s.* settings, got %s", k, describe(val)), Source: path}
				}
			}
		default:
			return &Error{Key: k, Msg: "unknown key (servicedesk.example.yaml lists every key)", Source: path}
		}
	}
	return nil
}

// flaskAlias maps a variable of the Flask app onto a key.
type flaskAlias struct {
	name    string
	key     string
	seconds bool // the value is a whole number of seconds
}

func flaskAliases() []flaskAlias {
	return []flaskAlias{
		{name: "DATABASE_URL", key: "database.url"},
		{name: "SECRET_KEY", key: "security.secret_key"},
		{name: "SESSION_LIFETIME_SECONDS", key: "security.session_lifetime", seconds: true},
		{name: "TIMEZONE", key: "timezone"},
		{name: "ADMIN_EMAIL", key: "admin.email"},
		{name: "ADMIN_PASSWORD", key: "admin.password"},
		{name: "MAIL_SERVER", key: "mail.server"},
		{name: "MAIL_PORT", key: "mail.port"},
		{name: "MAIL_USE_TLS", key: "mail.use_tls"},
		{name: "MAIL_USE_SSL", key: "mail.use_ssl"},
		{name: "MAIL_USERNAME", key: "mail.username"},
		{name: "MAIL_PASSWORD", key: "mail.password"},
		{name: "MAIL_DEFAULT_SENDER", key: "mail.default_sender"},
		{name: "MAIL_SUPPRESS_SEND", key: "mail.suppress_send"},
		{name: "NOTIFY_TICKETS_TO", key: "mail.notify_to"},
		{name: "BRAND_PRIMARY", key: "brand.primary"},
		{name: "BRAND_PRIMARY_DARK", key: "brand.primary_dark"},
		{name: "BRAND_PRIMARY_LIGHT", key: "brand.primary_light"},
	}
}

// imapVarNames are the Flask app's variables for its one IMAP mailbox;
// IMAP_FOLDER and IMAP_SECURITY are ours.
func imapVarNames() []string {
	return []string{"IMAP_HOST", "IMAP_PORT", "IMAP_SSL", "IMAP_SECURITY", "IMAP_USERNAME", "IMAP_PASSWORD", "IMAP_FOLDER"}
}

// applyEnv sets the keys named in one environment layer; where is appended
// to the variable name in error messages.
func (l *loader) applyEnv(vars map[string]string, where string) error {
	values := map[string]any{}
	from := map[string]string{}
	put := func(f field, name string, val any) {
		if s, ok := val.(string); ok && strings.TrimSpace(s) == "" && !textual(f.typ) {
			// MAIL_PORT= in a .env means "not set", not "invalid".
			return
		}
		values[f.key] = val
		from[f.key] = name + where
	}
	byKey := map[string]field{}
	for _, f := range l.fields {
		byKey[f.key] = f
	}
	// Flask names first, so the SERVICEDESK_ name of a key overwrites them.
	for _, a := range flaskAliases() {
		val, ok := vars[a.name]
		if !ok {
			continue
		}
		if a.seconds && strings.TrimSpace(val) != "" {
			n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			if err != nil || n < 0 || n > math.MaxInt64/int64(time.Second) {
				return &Error{Key: a.key, Msg: fmt.Sprintf("%q is not a whole number of seconds", val), Source: a.name + where}
			}
			put(byKey[a.key], a.name, time.Duration(n)*time.Second)
			continue
		}
		put(byKey[a.key], a.name, val)
	}
	for _, f := range l.fields {
		if val, ok := vars[EnvName(f.key)]; ok {
			put(f, EnvName(f.key), val)
		}
	}
	for k, val := range values {
		l.v.Set(k, val)
		l.sources[k] = from[k]
	}
	for _, n := range imapVarNames() {
		if val, ok := vars[n]; ok {
			l.imapVars[n] = val
			l.imapSources[n] = n + where
		}
	}
	return nil
}

func (l *loader) applyFlags(flags *pflag.FlagSet, keys map[string]string) error {
	names := make([]string, 0, len(keys))
	for name := range keys {
		names = append(names, name)
	}
	sort.Strings(names)
	known := map[string]bool{}
	for _, f := range l.fields {
		known[f.key] = true
	}
	for _, name := range names {
		key := keys[name]
		if !known[key] {
			return &Error{Key: key, Msg: "unknown key", Source: "--" + name}
		}
		if flags == nil {
			continue
		}
		fl := flags.Lookup(name)
		if fl == nil {
			return &Error{Key: key, Msg: fmt.Sprintf("flag --%s is not defined", name)}
		}
		if !fl.Changed {
			continue
		}
		var val any = fl.Value.String()
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			val = sv.GetSlice()
		}
		l.v.Set(key, val)
		l.sources[key] = "--" + name
	}
	return nil
}

// imapFallback turns the Flask IMAP_* variables into one mailbox named
// "default" when IMAP_HOST is set and no mailbox is configured. IMAP_SSL
// true (the default) means implicit TLS like Flask's IMAP4_SSL; false means
// STARTTLS, an upgrade over Flask's plain IMAP4: set IMAP_SECURITY=plain
// for a server that offers no STARTTLS.
func (l *loader) imapFallback(cfg *Config) error {
	host := strings.TrimSpace(l.imapVars["IMAP_HOST"])
	if host == "" || len(cfg.IMAP.Mailboxes) > 0 {
		return nil
	}
	const key = "imap.mailboxes[0]"
	raw := map[string]any{"name": "default", "host": host, "security": SecurityTLS}
	from := map[string]string{"name": l.imapSources["IMAP_HOST"], "host": l.imapSources["IMAP_HOST"]}
	if s := strings.TrimSpace(l.imapVars["IMAP_SSL"]); s != "" {
		tls, ok := parseBool(s)
		if !ok {
			return &Error{Key: key + ".security", Msg: fmt.Sprintf("%q is not a boolean (want 1/0, true/false, yes/no or on/off)", s), Source: l.imapSources["IMAP_SSL"]}
		}
		if !tls {
			raw["security"] = SecuritySTARTTLS
		}
		from["security"] = l.imapSources["IMAP_SSL"]
	}
	for field, name := range map[string]string{
		"security": "IMAP_SECURITY", "port": "IMAP_PORT", "username": "IMAP_USERNAME",
		"password": "IMAP_PASSWORD", "folder": "IMAP_FOLDER",
	} {
		if val := l.imapVars[name]; strings.TrimSpace(val) != "" {
			raw[field] = val
			from[field] = l.imapSources[name]
		}
	}
	var box Mailbox
	_, err := decodeStruct(reflect.ValueOf(&box).Elem(), fieldsOf(reflect.TypeOf(box), ""), key+".",
		func(k string) any { return raw[k] },
		func(k string) string { return from[strings.TrimPrefix(k, key+".")] })
	if err != nil {
		return err
	}
	cfg.IMAP.Mailboxes = []Mailbox{box}
	l.sources["imap.mailboxes"] = l.imapSources["IMAP_HOST"]
	return nil
}

// resolveDerived fills the defaults that depend on other values, unless the
// key was set to a non-empty value.
func resolveDerived(c *Config, set map[string]bool) {
	if !set["database.url"] || c.Database.URL == "" {
		c.Database.URL = defaultDatabaseURL(c.DataDir)
	}
	if !set["mail.outbox_dir"] || c.Mail.OutboxDir == "" {
		c.Mail.OutboxDir = defaultOutboxDir(c.DataDir)
	}
	if !set["mail.default_sender"] || c.Mail.DefaultSender == "" {
		c.Mail.DefaultSender = c.Mail.MainAddress()
	}
	if !set["mail.suppress_send"] {
		c.Mail.SuppressSend = c.Mail.Server == ""
	}
	// Flask-Mail setups with MAIL_USE_SSL=1 never set MAIL_USE_TLS; the
	// STARTTLS default must then step aside instead of conflicting.
	if c.Mail.UseSSL && !set["mail.use_tls"] {
		c.Mail.UseTLS = false
	}
	c.HTTP.PublicURL = strings.TrimRight(c.HTTP.PublicURL, "/")
	for i := range c.IMAP.Mailboxes {
		c.IMAP.Mailboxes[i].applyDefaults(c.Mail.MainAddress())
	}
}

// envMap turns KEY=value pairs into a map; a later duplicate wins, as in
// os.Getenv.
func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			m[k] = v
		}
	}
	return m
}

// field is one leaf setting of a struct: its dotted key and where it lives.
type field struct {
	key   string
	index []int
	typ   reflect.Type
}

var durationType = reflect.TypeOf(time.Duration(0))
var mailboxesType = reflect.TypeOf([]Mailbox(nil))

// fieldsOf lists the leaf settings of t by their mapstructure tags.
func fieldsOf(t reflect.Type, prefix string) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("mapstructure")
		if tag == "" || tag == "-" || !sf.IsExported() {
			continue
		}
		key := prefix + tag
		if sf.Type.Kind() == reflect.Struct {
			for _, sub := range fieldsOf(sf.Type, key+".") {
				sub.index = append([]int{i}, sub.index...)
				out = append(out, sub)
			}
			continue
		}
		out = append(out, field{key: key, index: []int{i}, typ: sf.Type})
	}
	return out
}

// textual types take an empty string as a value.
func textual(t reflect.Type) bool {
	return t.Kind() == reflect.String || t == reflect.TypeOf([]string(nil))
}

// decodeStruct sets each field of dst whose value get returns, converting
// it with our own messages: mapstructure's are multi-line and vague. It
// reports the keys that were set.
func decodeStruct(dst reflect.Value, fields []field, keyPrefix string, get func(string) any, source func(string) string) (map[string]bool, *Error) {
	set := map[string]bool{}
	for _, f := range fields {
		raw := get(f.key)
		if raw == nil {
			continue
		}
		key := keyPrefix + f.key
		var (
			val     any
			problem string
		)
		switch {
		case f.typ == durationType:
			val, problem = toDuration(raw)
		case f.typ == mailboxesType:
			boxes, err := decodeMailboxes(raw, key, source(key))
			if err != nil {
				return nil, err
			}
			val = boxes
		case f.typ.Kind() == reflect.String:
			val, problem = toString(raw)
		case f.typ.Kind() == reflect.Bool:
			val, problem = toBool(raw)
		case f.typ.Kind() == reflect.Int || f.typ.Kind() == reflect.Int64:
			val, problem = toInt(raw)
		case f.typ == reflect.TypeOf([]string(nil)):
			val, problem = toStrings(raw)
		default:
			problem = "unsupported setting type " + f.typ.String()
		}
		if problem != "" {
			return nil, &Error{Key: key, Msg: problem, Source: source(key)}
		}
		dst.FieldByIndex(f.index).Set(reflect.ValueOf(val).Convert(f.typ))
		set[f.key] = true
	}
	return set, nil
}

// decodeMailboxes accepts a YAML list or, from the environment or a flag, a
// YAML or JSON string holding one.
func decodeMailboxes(raw any, key, source string) ([]Mailbox, *Error) {
	if s, ok := raw.(string); ok {
		var list []any
		if err := yaml.Unmarshal([]byte(s), &list); err != nil {
			return nil, &Error{Key: key, Msg: "not a YAML or JSON list of mailboxes (want e.g. [{name: support, host: imap.example.com, username: u, password: p}])", Source: source}
		}
		raw = list
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, &Error{Key: key, Msg: fmt.Sprintf("want a list of mailboxes, got %s", describe(raw)), Source: source}
	}
	fields := fieldsOf(reflect.TypeOf(Mailbox{}), "")
	known := map[string]bool{}
	for _, f := range fields {
		known[f.key] = true
	}
	boxes := make([]Mailbox, 0, len(list))
	for i, el := range list {
		elKey := fmt.Sprintf("%s[%d]", key, i)
		m, ok := stringMap(el)
		if !ok {
			return nil, &Error{Key: elKey, Msg: fmt.Sprintf("want a mapping with name, host, username, …, got %s", describe(el)), Source: source}
		}
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if !known[k] {
				return nil, &Error{Key: elKey + "." + k, Msg: "unknown key (servicedesk.example.yaml lists every key)", Source: source}
			}
		}
		var box Mailbox
		_, err := decodeStruct(reflect.ValueOf(&box).Elem(), fields, elKey+".",
			func(k string) any { return m[k] }, func(string) string { return source })
		if err != nil {
			return nil, err
		}
		boxes = append(boxes, box)
	}
	return boxes, nil
}

// stringMap returns a mapping with lower-cased keys, as viper does for the
// rest of the file.
func stringMap(v any) (map[string]any, bool) {
	out := map[string]any{}
	switch m := v.(type) {
	case map[string]any:
		for k, val := range m {
			out[strings.ToLower(k)] = val
		}
	case map[any]any:
		for k, val := range m {
			out[strings.ToLower(fmt.Sprint(k))] = val
		}
	default:
		return nil, false
	}
	return out, true
}

// describe names a raw value in an error without dumping it.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case []any, []string:
		return "a list"
	case map[string]any, map[any]any:
		return "a mapping"
	default:
		return fmt.Sprint(x)
	}
}

func toString(raw any) (string, string) {
	switch x := raw.(type) {
	case string:
		return x, ""
	case bool, int, int64, uint64, float64, time.Duration:
		// YAML turns password: 1234 into a number; the text is meant.
		return fmt.Sprint(x), ""
	default:
		return "", fmt.Sprintf("want text, got %s", describe(raw))
	}
}

// parseBool accepts the spellings found in .env files.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "t", "yes", "y", "on":
		return true, true
	case "0", "false", "f", "no", "n", "off":
		return false, true
	}
	return false, false
}

func toBool(raw any) (bool, string) {
	const want = "is not a boolean (want true/false, 1/0, yes/no or on/off)"
	switch x := raw.(type) {
	case bool:
		return x, ""
	case int:
		if x == 0 || x == 1 {
			return x == 1, ""
		}
	case string:
		if b, ok := parseBool(x); ok {
			return b, ""
		}
	}
	return false, describe(raw) + " " + want
}

func toInt(raw any) (int64, string) {
	switch x := raw.(type) {
	case int:
		return int64(x), ""
	case int64:
		return x, ""
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), ""
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			return int64(x), ""
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, ""
		}
	}
	return 0, describe(raw) + " is not a whole number"
}

func toDuration(raw any) (time.Duration, string) {
	const want = "(want a number with a unit, e.g. 90s, 15m or 12h)"
	switch x := raw.(type) {
	case time.Duration:
		return x, ""
	case string:
		if d, err := time.ParseDuration(strings.TrimSpace(x)); err == nil {
			return d, ""
		}
		return 0, fmt.Sprintf("%q is not a duration %s", x, want)
	case int:
		// A bare number is ambiguous (seconds? nanoseconds?); only 0 is not.
		if x == 0 {
			return 0, ""
		}
		return 0, fmt.Sprintf("%d has no unit %s", x, want)
	}
	return 0, fmt.Sprintf("%s is not a duration %s", describe(raw), want)
}

// toStrings accepts a list, or a string of items separated by commas or
// semicolons (NOTIFY_TICKETS_TO used both).
func toStrings(raw any) ([]string, string) {
	var items []string
	switch x := raw.(type) {
	case []string:
		items = x
	case []any:
		for _, el := range x {
			s, problem := toString(el)
			if problem != "" {
				return nil, "list items: " + problem
			}
			items = append(items, s)
		}
	case string:
		items = strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == ';' })
	default:
		return nil, fmt.Sprintf("want a list, got %s", describe(raw))
	}
	out := []string{}
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, ""
}
