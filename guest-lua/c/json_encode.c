/*
** Lua values to JSON text, reading Lua's tables directly.
**
** Through the C API, each field of a table costs a `lua_next` (which hashes the previous
** key again to find where it stopped), a handful of type checks and a stack push and pop,
** each a call between wasm functions: most of a JSON route's time. Here the encoder walks
** the table's array part and node array as Lua's own `next` does, in the same order, and
** reads keys and values in place. It allocates nothing in Lua and raises no Lua error, so
** it needs no protected call of its own and never touches the GC.
**
** Objects are written with their keys in byte order, as Astra's serde_json maps write them.
** An object whose keys are all strings (nearly all) has its fields sorted by key before any
** is written; one with number keys, whose text is known only once written, goes out in
** `next`'s order with each field's place noted, and is then put in order in place.
**
** The JSON text goes into a Rust `Vec<u8>` (`json_out`); the rare cases (floats, strings
** that need escaping) are written by Rust (json.rs), so that both directions format numbers
** and replace invalid UTF-8 the same way. The mapping is described in json.rs.
*/

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lua.h"
#include "lobject.h"
#include "lstate.h"
#include "ltable.h"

/* Calls between wasm functions are dear (each saves registers and checks the stack and the
** epoch), so the per-value helpers are inlined into the walk. */
#define INLINE inline __attribute__((always_inline))

/* Deeper than this is almost surely a table that contains itself. */
#define MAX_DEPTH 128

/* What astra_json_encode returns; on a bad value or key, `bad_type` holds its Lua type. */
enum { JSON_OK = 0, JSON_BAD_VALUE = 1, JSON_BAD_KEY = 2, JSON_TOO_DEEP = 3, JSON_NO_MEMORY = 4 };

/* Internal: an object has number keys, and takes the slower way (put_fields). */
#define JSON_NUMBER_KEYS (-1)

/* The output buffer: the pointer, length and capacity of a Rust Vec<u8>, kept in step by
** astra_json_reserve. Must match `Output` in json.rs. */
typedef struct json_out {
  unsigned char *data;
  size_t len;
  size_t cap;
  void *vec;
  int bad_type;
} json_out;

/* Implemented in Rust (json.rs). */
extern void astra_json_reserve(json_out *out, size_t additional);
extern void astra_json_write_float(json_out *out, double n, int quoted);
extern void astra_json_write_escaped(json_out *out, const char *bytes, size_t len);

static INLINE unsigned char *room(json_out *out, size_t n) {
  if (out->cap - out->len < n) astra_json_reserve(out, n);
  return out->data + out->len;
}

static INLINE void put_byte(json_out *out, unsigned char b) {
  *room(out, 1) = b;
  out->len++;
}

/* Short copies as one or two fixed-size moves: a variable-length memcpy in wasm is a
** `memory.copy`, a call out to the runtime that costs more than a key's few bytes. */
static INLINE void copy_bytes(unsigned char *dst, const char *src, size_t n) {
  if (n > 16) {
    memcpy(dst, src, n);
  } else if (n >= 8) {
    unsigned long long head, tail;
    memcpy(&head, src, 8);
    memcpy(&tail, src + n - 8, 8);
    memcpy(dst, &head, 8);
    memcpy(dst + n - 8, &tail, 8);
  } else if (n >= 4) {
    unsigned int head, tail;
    memcpy(&head, src, 4);
    memcpy(&tail, src + n - 4, 4);
    memcpy(dst, &head, 4);
    memcpy(dst + n - 4, &tail, 4);
  } else if (n > 0) {
    dst[0] = (unsigned char)src[0];
    dst[n / 2] = (unsigned char)src[n / 2];
    dst[n - 1] = (unsigned char)src[n - 1];
  }
}

static INLINE void put_bytes(json_out *out, const char *bytes, size_t n) {
  copy_bytes(room(out, n), bytes, n);
  out->len += n;
}

/* Whether no byte of the word is a control character, `"`, `\` or above 0x7f: the classic
** "has a byte below n" and "has a zero byte" tricks, exact once every byte is below 0x80. */
static INLINE int plain_word(uint64_t w) {
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  uint64_t control = w - ones * 0x20;
  uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
  quote = (quote - ones) & ~quote;
  backslash = (backslash - ones) & ~backslash;
  return ((w | control | quote | backslash) & highs) == 0;
}

static INLINE uint64_t load64(const char *s) {
  uint64_t w;
  memcpy(&w, s, 8);
  return w;
}

static INLINE uint32_t load32(const char *s) {
  uint32_t w;
  memcpy(&w, s, 4);
  return w;
}

/* Whether the string can be copied as it is (most can). Checked eight bytes at a time; a
** string of up to 16 bytes is read as overlapping pieces, without a loop. */
static INLINE int is_plain(const char *s, size_t n) {
  if (n >= 8) {
    if (!plain_word(load64(s + n - 8))) return 0;
    for (size_t i = 0; i + 8 <= n; i += 8)
      if (!plain_word(load64(s + i))) return 0;
    return 1;
  }
  if (n >= 4) return plain_word(load32(s) | (uint64_t)load32(s + n - 4) << 32);
  if (n == 0) return 1;
  const uint64_t filler = 0x6161616161000000ull; /* "aaaaa" above three bytes of s */
  return plain_word(filler | (unsigned char)s[0] | (unsigned char)s[n / 2] << 8 |
                    (uint64_t)(unsigned char)s[n - 1] << 16);
}

/* The string, quoted, after `lead` and before `trail` (each a byte, or 0 for none): a key
** goes out with its comma and colon in one write. */
static INLINE void put_string(json_out *out, const TString *ts, char lead, char trail) {
  const char *s = getstr(ts);
  size_t n = tsslen(ts);
  if (!is_plain(s, n)) {
    if (lead) put_byte(out, (unsigned char)lead);
    astra_json_write_escaped(out, s, n);
    if (trail) put_byte(out, (unsigned char)trail);
    return;
  }
  unsigned char *dst = room(out, n + 4), *at = dst;
  if (lead) *at++ = (unsigned char)lead;
  *at++ = '"';
  copy_bytes(at, s, n);
  at += n;
  *at++ = '"';
  if (trail) *at++ = (unsigned char)trail;
  out->len += (size_t)(at - dst);
}

static INLINE void put_integer(json_out *out, lua_Integer i, int quoted) {
  char digits[24];
  char *end = digits + sizeof digits, *at = end;
  lua_Unsigned rest = i < 0 ? 0u - (lua_Unsigned)i : (lua_Unsigned)i;
  if (quoted) *--at = '"';
  do {
    *--at = (char)('0' + rest % 10);
    rest /= 10;
  } while (rest != 0);
  if (i < 0) *--at = '-';
  if (quoted) *--at = '"';
  put_bytes(out, at, (size_t)(end - at));
}

static INLINE void put_number(json_out *out, const TValue *o, int quoted) {
  if (ttisinteger(o))
    put_integer(out, ivalue(o), quoted);
  else
    astra_json_write_float(out, fltvalue(o), quoted);
}

static int put_value(lua_State *L, json_out *out, const TValue *o, int depth);

/* Where one field of an object was written, as offsets into the output (which may move as it
** grows): the field from `start` to `end`, its key's text (without quotes) from `key`. */
typedef struct field_span {
  size_t start, key, key_len, end;
} field_span;

/* Most objects have few fields; more than this take memory from Lua's allocator. */
#define LOCAL_FIELDS 16

/* Up to this many fields an insertion sort beats qsort, whose comparisons are calls. */
#define INSERTION_SORT_MOST 64

typedef struct field_list {
  field_span local[LOCAL_FIELDS];
  field_span *spans;
  size_t count, cap;
} field_list;

/* Lua's allocator, called directly: it returns NULL rather than raising. */
static void *lua_memory(lua_State *L, void *block, size_t old_size, size_t new_size) {
  global_State *g = G(L);
  return g->frealloc(g->ud, block, old_size, new_size);
}

static int add_field(lua_State *L, field_list *fields, field_span span) {
  if (fields->count == fields->cap) {
    size_t cap = fields->cap * 2;
    field_span *grown = lua_memory(L, NULL, 0, cap * sizeof(field_span));
    if (grown == NULL) return JSON_NO_MEMORY;
    memcpy(grown, fields->spans, fields->count * sizeof(field_span));
    if (fields->spans != fields->local) lua_memory(L, fields->spans, fields->cap * sizeof(field_span), 0);
    fields->spans = grown;
    fields->cap = cap;
  }
  fields->spans[fields->count++] = span;
  return JSON_OK;
}

static int key_order(const unsigned char *data, const field_span *a, const field_span *b) {
  size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
  int order = memcmp(data + a->key, data + b->key, n);
  if (order != 0) return order;
  return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

/* qsort passes no context: the output being sorted, while it is (an instance is one thread). */
static const unsigned char *sorting_data;

static int compare_spans(const void *a, const void *b) {
  return key_order(sorting_data, a, b);
}

/* Puts the fields of the object written from `body` to the end of the output in key order:
** sorts their spans, then copies the fields in that order through a scratch block. */
static int sort_fields(lua_State *L, json_out *out, field_list *fields, size_t body) {
  field_span *spans = fields->spans;
  size_t count = fields->count;
  int sorted = 1;
  for (size_t i = 1; i < count && sorted; i++) sorted = key_order(out->data, &spans[i - 1], &spans[i]) <= 0;
  if (sorted) return JSON_OK;
  sorting_data = out->data;
  qsort(spans, count, sizeof(field_span), compare_spans);
  size_t size = out->len - body;
  unsigned char *scratch = lua_memory(L, NULL, 0, size);
  if (scratch == NULL) return JSON_NO_MEMORY;
  unsigned char *at = scratch;
  for (size_t i = 0; i < count; i++) {
    if (i > 0) *at++ = ',';
    size_t length = spans[i].end - spans[i].start;
    memcpy(at, out->data + spans[i].start, length);
    at += length;
  }
  memcpy(out->data + body, scratch, size);
  lua_memory(L, scratch, size, 0);
  return JSON_OK;
}

static int put_fields(lua_State *L, json_out *out, Table *t, int no_array, int depth, field_list *fields);

/* A field of an object whose keys are strings: its key and value, in the table. */
typedef struct string_field {
  const TString *key;
  const TValue *value;
} string_field;

static INLINE int string_order(const string_field *a, const string_field *b) {
  size_t la = tsslen(a->key), lb = tsslen(b->key);
  int order = memcmp(getstr(a->key), getstr(b->key), la < lb ? la : lb);
  if (order != 0) return order;
  return la < lb ? -1 : la > lb;
}

static int compare_string_fields(const void *a, const void *b) {
  return string_order(a, b);
}

/* Writes the fields of an object whose keys are all strings, sorted by key; returns
** JSON_NUMBER_KEYS, having written nothing, if it has another key. */
static int put_string_keyed(lua_State *L, json_out *out, Table *t, int no_array, int depth) {
  unsigned int asize = no_array ? 0 : luaH_realasize(t);
  for (unsigned int i = 0; i < asize; i++)
    if (!isempty(&t->array[i])) return JSON_NUMBER_KEYS;
  string_field local[LOCAL_FIELDS];
  string_field *fields = local;
  size_t count = 0, cap = LOCAL_FIELDS;
  int status = JSON_OK;
  for (unsigned int i = 0, n = sizenode(t); i < n && status == JSON_OK; i++) {
    Node *node = gnode(t, i);
    if (isempty(gval(node))) continue;
    TValue key;
    getnodekey(NULL, &key, node);
    if (!ttisstring(&key)) {
      if (ttisnumber(&key)) {
        status = JSON_NUMBER_KEYS;
      } else {
        out->bad_type = ttype(&key);
        status = JSON_BAD_KEY;
      }
      break;
    }
    if (count == cap) {
      string_field *grown = lua_memory(L, NULL, 0, cap * 2 * sizeof(string_field));
      if (grown == NULL) {
        status = JSON_NO_MEMORY;
        break;
      }
      memcpy(grown, fields, count * sizeof(string_field));
      if (fields != local) lua_memory(L, fields, cap * sizeof(string_field), 0);
      fields = grown;
      cap *= 2;
    }
    fields[count].key = tsvalue(&key);
    fields[count].value = gval(node);
    count++;
  }
  if (status == JSON_OK) {
    /* Most objects are small, and an insertion sort is quickest for them. */
    if (count <= INSERTION_SORT_MOST) {
      for (size_t i = 1; i < count; i++) {
        string_field field = fields[i];
        size_t j = i;
        for (; j > 0 && string_order(&fields[j - 1], &field) > 0; j--) fields[j] = fields[j - 1];
        fields[j] = field;
      }
    } else {
      qsort(fields, count, sizeof(string_field), compare_string_fields);
    }
    for (size_t i = 0; i < count && status == JSON_OK; i++) {
      put_string(out, fields[i].key, i > 0 ? ',' : 0, ':');
      status = put_value(L, out, fields[i].value, depth);
    }
  }
  if (fields != local) lua_memory(L, fields, cap * sizeof(string_field), 0);
  return status;
}

/* A table with a border past 0 is an array up to it (its other keys are ignored); any
** other table is an object with every key, in key order. */
static int put_table(lua_State *L, json_out *out, Table *t, int depth) {
  if (depth > MAX_DEPTH) return JSON_TOO_DEEP;
  /* Without an array part (most objects), t[1] would have to be in the hash part. */
  int no_array = t->alimit == 0;
  lua_Unsigned len = no_array && isempty(luaH_getint(t, 1)) ? 0 : luaH_getn(t);
  if (len > 0) {
    put_byte(out, '[');
    /* The items in the array part are read in place; only those past it are looked up. */
    lua_Unsigned asize = no_array ? 0 : luaH_realasize(t);
    for (lua_Unsigned i = 1; i <= len; i++) {
      if (i > 1) put_byte(out, ',');
      const TValue *item = i <= asize ? &t->array[i - 1] : luaH_getint(t, (lua_Integer)i);
      int status = put_value(L, out, item, depth);
      if (status != JSON_OK) return status;
    }
    put_byte(out, ']');
    return JSON_OK;
  }
  put_byte(out, '{');
  int status = put_string_keyed(L, out, t, no_array, depth);
  if (status != JSON_NUMBER_KEYS) {
    if (status != JSON_OK) return status;
    put_byte(out, '}');
    return JSON_OK;
  }
  size_t body = out->len;
  field_list fields = {.spans = NULL, .count = 0, .cap = LOCAL_FIELDS};
  fields.spans = fields.local;
  status = put_fields(L, out, t, no_array, depth, &fields);
  if (status == JSON_OK && fields.count > 1) status = sort_fields(L, out, &fields, body);
  if (fields.spans != fields.local) lua_memory(L, fields.spans, fields.cap * sizeof(field_span), 0);
  if (status != JSON_OK) return status;
  put_byte(out, '}');
  return JSON_OK;
}

/* Writes an object's fields, in `next`'s order, noting where each went. */
static int put_fields(lua_State *L, json_out *out, Table *t, int no_array, int depth, field_list *fields) {
  unsigned int asize = no_array ? 0 : luaH_realasize(t);
  for (unsigned int i = 0; i < asize; i++) {
    const TValue *value = &t->array[i];
    if (isempty(value)) continue;
    if (fields->count > 0) put_byte(out, ',');
    field_span span = {.start = out->len, .key = out->len + 1};
    put_integer(out, (lua_Integer)i + 1, 1);
    span.key_len = out->len - 1 - span.key;
    put_byte(out, ':');
    int status = put_value(L, out, value, depth);
    if (status != JSON_OK) return status;
    span.end = out->len;
    status = add_field(L, fields, span);
    if (status != JSON_OK) return status;
  }
  for (unsigned int i = 0, n = sizenode(t); i < n; i++) {
    Node *node = gnode(t, i);
    if (isempty(gval(node))) continue;
    if (fields->count > 0) put_byte(out, ',');
    field_span span = {.start = out->len, .key = out->len + 1};
    TValue key;
    getnodekey(NULL, &key, node);
    if (ttisstring(&key)) {
      put_string(out, tsvalue(&key), 0, ':');
    } else if (ttisnumber(&key)) {
      put_number(out, &key, 1);
      put_byte(out, ':');
    } else {
      out->bad_type = ttype(&key);
      return JSON_BAD_KEY;
    }
    span.key_len = out->len - 2 - span.key;
    int status = put_value(L, out, gval(node), depth);
    if (status != JSON_OK) return status;
    span.end = out->len;
    status = add_field(L, fields, span);
    if (status != JSON_OK) return status;
  }
  return JSON_OK;
}

static int put_value(lua_State *L, json_out *out, const TValue *o, int depth) {
  switch (ttype(o)) {
    case LUA_TNIL:
      put_bytes(out, "null", 4);
      return JSON_OK;
    case LUA_TBOOLEAN:
      if (ttistrue(o))
        put_bytes(out, "true", 4);
      else
        put_bytes(out, "false", 5);
      return JSON_OK;
    case LUA_TNUMBER:
      put_number(out, o, 0);
      return JSON_OK;
    case LUA_TSTRING:
      put_string(out, tsvalue(o), 0, 0);
      return JSON_OK;
    case LUA_TTABLE:
      return put_table(L, out, hvalue(o), depth + 1);
    case LUA_TLIGHTUSERDATA:
      if (pvalue(o) == NULL) { /* mlua's `null` */
        put_bytes(out, "null", 4);
        return JSON_OK;
      }
      /* fall through */
    default:
      out->bad_type = ttype(o);
      return JSON_BAD_VALUE;
  }
}

/* Writes the value on top of L's stack. */
int astra_json_encode(lua_State *L, json_out *out) {
  return put_value(L, out, s2v(L->top.p - 1), 0);
}
