// Worker module of the ES module consumer: the sum 1..n.
export default function sum({ n }) {
  let total = 0
  for (let i = 1; i <= n; i++) total += i
  return total
}
