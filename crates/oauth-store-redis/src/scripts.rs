//! The server-side scripts: every read-check-write runs as one script, so
//! it is atomic on the server (Redis runs one script at a time).
//!
//! Values that Lua would turn into floating-point numbers (versions,
//! fencing numbers) are compared and returned as strings.

use redis::Script;
use std::sync::LazyLock;

/// Compare-and-swap save, optionally fenced.
///
/// KEYS: entry, listing, fencing counter.
/// ARGV: expected version (`""`: the entry must not exist), new version,
/// token set (JSON), fence (`""`: not fenced), account id.
///
/// Returns `{"fenced"}`, `{"conflict", version|nil, tokens|nil}` or
/// `{"saved"}`.
pub(crate) static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if ARGV[4] ~= '' then
  local granted = redis.call('GET', KEYS[3]) or '0'
  if granted ~= ARGV[4] then
    return {'fenced'}
  end
end
local current = redis.call('HMGET', KEYS[1], 'v', 't')
if (current[1] or '') ~= ARGV[1] then
  return {'conflict', current[1], current[2]}
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 't', ARGV[3])
redis.call('ZADD', KEYS[2], 0, ARGV[5])
return {'saved'}
",
    )
});

/// Acquire the refresh lease.
///
/// KEYS: lease, fencing counter. ARGV: owner, time to live (ms, >= 1).
///
/// The lease key holds `FENCE OWNER` (owners have no spaces) and expires by
/// itself. Returns `{"held", remaining ms}` or `{"acquired", fence}`.
pub(crate) static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = redis.call('GET', KEYS[1])
if current then
  local space = string.find(current, ' ', 1, true)
  local holder = space and string.sub(current, space + 1) or ''
  if holder ~= ARGV[1] then
    local remaining = redis.call('PTTL', KEYS[1])
    if remaining > 0 then
      return {'held', remaining}
    end
  end
end
redis.call('INCR', KEYS[2])
local fence = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[1], fence .. ' ' .. ARGV[1], 'PX', ARGV[2])
return {'acquired', fence}
",
    )
});

/// Release the lease if it is still the given one.
///
/// KEYS: lease. ARGV: `FENCE OWNER`. Returns 1 if released, else 0.
pub(crate) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
",
    )
});

/// Delete an entry and its listing member; the fencing counter stays.
///
/// KEYS: entry, listing. ARGV: account id.
pub(crate) static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
",
    )
});

/// The write probe: write and remove a scratch key.
///
/// KEYS: probe key.
pub(crate) static PROBE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('SET', KEYS[1], '1', 'PX', 10000)
redis.call('DEL', KEYS[1])
return 1
",
    )
});
