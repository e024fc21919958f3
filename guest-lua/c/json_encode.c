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
** The JSON text goes into a Rust `Vec<u8>` (`json_out`); the rare cases (floats, strings
** that need escaping) are written by Rust (json.rs), so that both directions format numbers
** and replace invalid UTF-8 the same way. The mapping is described in json.rs.
*/

#include <stdint.h>
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
enum { JSON_OK = 0, JSON_BAD_VALUE = 1, JSON_BAD_KEY = 2, JSON_TOO_DEEP = 3 };

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

static int put_value(json_out *out, const TValue *o, int depth);

/* A table with a border past 0 is an array up to it (its other keys are ignored); any
** other table is an object with every key, in `next`'s order. */
static int put_table(json_out *out, Table *t, int depth) {
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
      int status = put_value(out, item, depth);
      if (status != JSON_OK) return status;
    }
    put_byte(out, ']');
    return JSON_OK;
  }
  int first = 1;
  put_byte(out, '{');
  unsigned int asize = no_array ? 0 : luaH_realasize(t);
  for (unsigned int i = 0; i < asize; i++) {
    const TValue *value = &t->array[i];
    if (isempty(value)) continue;
    if (!first) put_byte(out, ',');
    first = 0;
    put_integer(out, (lua_Integer)i + 1, 1);
    put_byte(out, ':');
    int status = put_value(out, value, depth);
    if (status != JSON_OK) return status;
  }
  for (unsigned int i = 0, n = sizenode(t); i < n; i++) {
    Node *node = gnode(t, i);
    if (isempty(gval(node))) continue;
    char lead = first ? 0 : ',';
    first = 0;
    TValue key;
    getnodekey(NULL, &key, node);
    if (ttisstring(&key)) {
      put_string(out, tsvalue(&key), lead, ':');
    } else if (ttisnumber(&key)) {
      if (lead) put_byte(out, (unsigned char)lead);
      put_number(out, &key, 1);
      put_byte(out, ':');
    } else {
      out->bad_type = ttype(&key);
      return JSON_BAD_KEY;
    }
    int status = put_value(out, gval(node), depth);
    if (status != JSON_OK) return status;
  }
  put_byte(out, '}');
  return JSON_OK;
}

static int put_value(json_out *out, const TValue *o, int depth) {
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
      return put_table(out, hvalue(o), depth + 1);
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
  return put_value(out, s2v(L->top.p - 1), 0);
}
