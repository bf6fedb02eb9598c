// The chat page: one WebSocket per user, one room at a time, and the metrics panel polling /stats.
const $ = (id) => document.getElementById(id)
let socket
let socketUser
let currentRoom
let refCounter = 0

function setStatus(text) {
  $('status').textContent = text
}

function showError(text) {
  $('error').textContent = text
}

/** `html` is the server's rendering: every character of the user's text is escaped there. */
function addLine(className, who, color, text, html) {
  const li = document.createElement('li')
  li.className = className
  if (who) {
    const name = document.createElement('span')
    name.className = 'who'
    name.style.color = color
    name.textContent = who
    li.append(name)
  }
  const body = document.createElement('span')
  body.className = 'body'
  if (html === undefined) body.textContent = text
  else body.innerHTML = html
  li.append(body)
  const list = $('messages')
  list.append(li)
  while (list.children.length > 200) list.firstElementChild.remove()
  list.scrollTop = list.scrollHeight
}

function enableSending(enabled) {
  $('text').disabled = !enabled
  $('send').disabled = !enabled
}

/** The room heading and the tab title show the room and who is in it. */
function showMembers(room, members) {
  const title = `#${room} (${members.join(', ')})`
  $('room-title').textContent = title
  document.title = `${title} – hotpath chat room`
}

function onServerMessage(message) {
  switch (message.type) {
    case 'welcome':
      setStatus(`connected as ${message.user.name}`)
      break
    case 'joined':
      currentRoom = message.room
      showMembers(message.room, message.members)
      $('messages').replaceChildren()
      for (const m of message.history) addLine('message history', m.user.name, m.user.color, m.text, m.html)
      enableSending(true)
      $('text').focus()
      break
    case 'left':
      if (currentRoom === message.room) {
        currentRoom = undefined
        enableSending(false)
      }
      break
    case 'presence':
      if (message.room === currentRoom) {
        showMembers(message.room, message.members)
        addLine('presence', '', '', `${message.user} ${message.event === 'join' ? 'joined' : 'left'}`)
      }
      break
    case 'message':
      if (message.room === currentRoom)
        addLine('message', message.user.name, message.user.color, message.text, message.html)
      break
    case 'error':
      showError(
        message.code === 'RATE_LIMITED'
          ? `Slow down: ${message.message}`
          : `${message.code}: ${message.message}`,
      )
      break
  }
}

function connect(user) {
  return new Promise((resolve, reject) => {
    if (socket && socketUser === user && socket.readyState === WebSocket.OPEN) return resolve(socket)
    socket?.close()
    const protocol = location.protocol === 'https:' ? 'wss' : 'ws'
    const ws = new WebSocket(`${protocol}://${location.host}/ws?user=${encodeURIComponent(user)}`)
    socket = ws
    socketUser = user
    ws.addEventListener('open', () => resolve(ws), { once: true })
    ws.addEventListener('error', () => reject(new Error('connection failed')), { once: true })
    ws.addEventListener('message', (event) => onServerMessage(JSON.parse(event.data)))
    ws.addEventListener('close', (event) => {
      if (socket !== ws) return
      setStatus(`disconnected${event.reason ? `: ${event.reason}` : ''}`)
      enableSending(false)
    })
  })
}

$('join-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  showError('')
  const user = $('user').value.trim()
  const room = $('room').value.trim()
  try {
    const ws = await connect(user)
    if (currentRoom && currentRoom !== room) ws.send(JSON.stringify({ type: 'leave', room: currentRoom }))
    ws.send(JSON.stringify({ type: 'join', room }))
  } catch (error) {
    showError(String(error))
  }
})

$('send-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const text = $('text').value
  if (!text.trim() || !socket || !currentRoom) return
  showError('')
  socket.send(JSON.stringify({ type: 'message', room: currentRoom, text, ref: `p${++refCounter}` }))
  $('text').value = ''
})

const ms = (value) => `${value.toFixed(1)} ms`

async function refreshStats() {
  try {
    const stats = await (await fetch('/stats', { cache: 'no-store' })).json()
    const latency = stats.latency
    $('stat-p50').textContent = latency.count ? ms(latency.p50) : '–'
    $('stat-p95').textContent = latency.count ? ms(latency.p95) : '–'
    $('stat-p99').textContent = latency.count ? ms(latency.p99) : '–'
    $('stat-messages').textContent = String(stats.messages.broadcast)
    $('stat-rate-limited').textContent = String(stats.rateLimited)
    $('stat-hit-rate').textContent = `${(stats.cache.hitRate * 100).toFixed(1)}%`
    $('stat-semaphore').textContent = `${stats.semaphore.inUse} / ${stats.semaphore.waiting}`
    $('stat-writes').textContent = `${stats.writer.keys} / ${stats.writer.pending} (${stats.writer.batches})`
    const workers = stats.workers
    $('stat-workers').textContent = `${workers.threads} / ${workers.busy} / ${workers.queued}`
    $('stat-worker-utilization').textContent =
      `${(workers.utilization * 100).toFixed(1)}% (${workers.completed} rendered)`
    $('stat-connections').textContent = `${stats.connections} / ${stats.rooms}`
    $('stat-updated').textContent = new Date().toLocaleTimeString()
  } catch {
    $('stat-updated').textContent = 'stats unavailable'
  }
}

refreshStats()
setInterval(refreshStats, 1000)
