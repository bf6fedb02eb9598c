// Worker module of the concurrency/workers scenario for piscina, tinypool and hotpath:
// `n` > 0 is the small CPU task (a summing loop), `n` = 0 the trivial one (echo).
export default function work(n) {
  let total = 0
  for (let i = 0; i < n; i++) total += i % 7
  return total
}
