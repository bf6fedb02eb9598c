// Worker module of the CommonJS consumer: the sum 1..n.
module.exports = function sum({ n }) {
  let total = 0
  for (let i = 1; i <= n; i++) total += i
  return total
}
