// The Draw tab's pen: a plain <canvas> that asks the server about the drawing while the
// pen moves (one request in flight at a time) and once more, at once, when it lifts. Requests go to
// the component's server function (one HTTP POST, no queue, no file upload), which is what
// lets the answer follow the pen. Runs as gr.HTML's js_on_load: `element`, `server` given
// (in a block of its own, so that no name here hides one of Gradio's).
{
const SIZE = 280; // canvas pixels, as the server expects
// At most this often while drawing (and never two at a time); each reply may ask for
// longer (pace_ms: 250 while a model trains on the server, which shares its cores).
const LIVE_EVERY_MS = 60;
let liveEvery = LIVE_EVERY_MS;
const MAX_UPLOAD = element.querySelector(".pen").dataset.maxUpload * 1;

const canvas = element.querySelector("#canvas");
const context = canvas.getContext("2d");
const photo = element.querySelector(".pen-photo");
const answer = element.querySelector("#prediction");
const stages = element.querySelector("#stages");
const brush = element.querySelector(".pen-size");
const fileInput = element.querySelector(".pen-file");
const whyBox = element.querySelector(".pen-why");
const whyOverlay = element.querySelector(".pen-why-overlay");
const whyFigure = element.querySelector("#why");
const whyInput = element.querySelector("#why-input");
const whyLegend = element.querySelector("#why-legend");

let strokes = []; // [{radius, points: [[x, y], ...]}]
let current = null;
let uploaded = null; // a data URL while an uploaded image is shown instead of the canvas
let model = element.querySelector(".pen").dataset.model;
let inFlight = 0; // requests out: one, or two when the pen lifts while a live one is out
let again = false; // something changed while a request was in flight
let sent = 0; // requests numbered as they leave: an answer older than the one shown is dropped
let shown = 0;
let lastSent = 0;
// Bumped when the drawing is replaced (cleared, undone, uploaded) or the model changes: an
// answer about an older one is not shown. (Ink added by the pen only grows the drawing,
// so an answer from a moment ago is still worth showing while the pen moves.)
let generation = 0;

function point(event) {
  const box = canvas.getBoundingClientRect();
  return [((event.clientX - box.left) * SIZE) / box.width, ((event.clientY - box.top) * SIZE) / box.height];
}

function paint(stroke, from = 0) {
  context.lineCap = context.lineJoin = "round";
  context.strokeStyle = context.fillStyle = "#000";
  context.lineWidth = 2 * stroke.radius;
  const p = stroke.points;
  if (p.length === 1) {
    context.beginPath();
    context.arc(p[0][0], p[0][1], stroke.radius, 0, 2 * Math.PI);
    context.fill();
    return;
  }
  context.beginPath();
  context.moveTo(...p[Math.max(0, from - 1)]);
  for (let i = Math.max(1, from); i < p.length; i++) context.lineTo(...p[i]);
  context.stroke();
}

function repaint() {
  context.clearRect(0, 0, SIZE, SIZE);
  strokes.forEach((stroke) => paint(stroke));
}

function show(result, sentAt = -1) {
  answer.dataset.state = result.state;
  answer.dataset.sentAt = sentAt; // when the request behind this answer left (benchmarks)
  answer.dataset.live = result.live ? "true" : "false"; // a glimpse, or the pen-up's answer
  answer.innerHTML = result.html;
  // Now that the answer is on screen, "Inside the network" (inside_view.js) may ask about it.
  element.dispatchEvent(new CustomEvent("pen-answer", { bubbles: true, detail: { generation } }));
  if (result.live) return; // a glimpse while the pen is down: the strip and Why? follow at pen-up
  if (result.stages) {
    stages.src = result.stages;
    stages.hidden = false;
  } else {
    stages.removeAttribute("src");
    stages.hidden = true;
  }
  showWhy(whyBox.checked && result.why ? result : null);
}

// The explanation over the strokes (or the photo) and over the 28x28 input, or none.
function showWhy(result) {
  whyOverlay.hidden = whyFigure.hidden = !result;
  if (result) {
    whyOverlay.src = result.why;
    whyInput.src = result.why_input;
    whyLegend.innerHTML = result.why_html;
  } else {
    whyOverlay.removeAttribute("src");
    whyInput.removeAttribute("src");
  }
}

function blank() {
  return !uploaded && strokes.length === 0;
}

function showBlank() {
  show({ html: element.querySelector(".pen").dataset.blank, state: "blank", stages: "" });
}

// `atOnce` (pen-up): the answer people wait for goes even while a live frame is out; the
// server drops that frame if it is still waiting for its turn.
async function ask(atOnce = false) {
  if (blank()) {
    showBlank();
    return;
  }
  if (inFlight && !atOnce) {
    again = true;
    return;
  }
  inFlight++;
  again = false;
  const number = ++sent;
  const sentAt = (lastSent = performance.now());
  const live = current !== null; // the pen is still down: a glimpse, not the answer
  const request = {
    image: uploaded || canvas.toDataURL("image/png"),
    kind: uploaded ? "upload" : "canvas",
    model,
    why: whyBox.checked,
    live,
  };
  const asked = generation;
  try {
    const result = await server.read_pen(request);
    if (Number.isFinite(result.pace_ms)) liveEvery = Math.min(Math.max(result.pace_ms, LIVE_EVERY_MS), 1000);
    // Half a stroke is often "a dot" or nothing yet: while the pen is down, only digits
    // are shown; refusals wait for the pen to lift.
    if (asked === generation && number > shown && !(live && result.state !== "digit")) {
      shown = number;
      show(result, sentAt);
    }
  } catch (error) {
    if (asked === generation && number > shown) {
      shown = number;
      show({ html: `<p class="refusal">The server did not answer (${error}).</p>`, state: "error" });
    }
  } finally {
    inFlight--;
    if (again && !inFlight) {
      again = false;
      // Ink drawn while this was out: with the pen still down, asked at the pace, not at
      // once (which sent a frame per round trip, 40 a second, whatever liveEvery said).
      if (current) askWhileDrawing();
      else ask();
    }
  }
}

// Tells the page the drawing changed (a new stroke, or replaced): what was said about the
// last one, such as "Kept as a 3", no longer is about what is on the canvas.
function changed() {
  element.dispatchEvent(new CustomEvent("pen-change", { bubbles: true }));
}

function replaced() {
  generation++;
  changed();
}

function clearAll() {
  replaced();
  strokes = [];
  current = null;
  uploaded = null;
  photo.hidden = true;
  photo.removeAttribute("src");
  cursorMark.classList.remove("down");
  repaint();
  ask();
}

function undo() {
  if (current) return; // not in the middle of a stroke
  if (uploaded) return clearAll();
  replaced();
  strokes.pop();
  repaint();
  ask();
}

canvas.addEventListener("pointerdown", (event) => {
  if (event.button > 0 || current) return; // one pen at a time: a second finger or a palm is ignored
  event.preventDefault();
  canvas.setPointerCapture(event.pointerId);
  if (uploaded) clearAll(); // drawing starts a new drawing: the canvas is what is read again
  current = { radius: brush.value * 1, points: [point(event)], pointer: event.pointerId };
  strokes.push(current);
  paint(current);
  changed();
});

canvas.addEventListener("pointermove", (event) => {
  if (!current || event.pointerId !== current.pointer) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  const from = current.points.length;
  events.forEach((e) => current.points.push(point(e)));
  paint(current, from);
  askWhileDrawing();
});

// While the pen moves: ask about the ink as it is now, at most every liveEvery ms and one
// request at a time; ink drawn while a request is out is asked about when it returns (a
// first glimpse is often "not a digit" yet, and must not be the last one).
let livePending = null;
function askWhileDrawing() {
  if (inFlight) {
    again = true;
    return;
  }
  const wait = liveEvery - (performance.now() - lastSent);
  if (wait <= 0) ask();
  else if (livePending === null) {
    livePending = setTimeout(() => {
      livePending = null;
      if (current) ask();
    }, wait);
  }
}

function lift() {
  current = null;
  ask(true); // the final answer for this stroke, at once
}

function penUp(event) {
  if (current && event.pointerId === current.pointer) lift();
}
canvas.addEventListener("pointerup", penUp);
canvas.addEventListener("pointercancel", penUp);

// The keyboard's pen: the arrow keys move a cursor (Shift: further), Space puts the pen
// down or lifts it. Its strokes are asked about exactly as the pointer's: live while down,
// in full at pen-up.
const KEYBOARD = "keyboard"; // the stroke's `pointer`: no pointer event matches it
const STEP = 8;
const BIG_STEP = 32;
const MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
const cursorMark = element.querySelector(".pen-cursor");
let cursor = [SIZE / 2, SIZE / 2];

function showCursor() {
  const percent = (value) => `${(100 * value) / SIZE}%`;
  cursorMark.style.left = percent(cursor[0]);
  cursorMark.style.top = percent(cursor[1]);
  cursorMark.style.width = cursorMark.style.height = percent(2 * brush.value);
  cursorMark.classList.toggle("down", current?.pointer === KEYBOARD);
  cursorMark.hidden = false;
}

function moveCursor([dx, dy], step) {
  const clamp = (value) => Math.min(SIZE, Math.max(0, value));
  cursor = [clamp(cursor[0] + dx * step), clamp(cursor[1] + dy * step)];
  if (current?.pointer !== KEYBOARD) return;
  current.points.push([...cursor]);
  paint(current, current.points.length - 1);
  askWhileDrawing();
}

function toggleKeyboardPen() {
  if (current?.pointer === KEYBOARD) return lift();
  if (current) return; // a pointer is drawing
  if (uploaded) clearAll();
  current = { radius: brush.value * 1, points: [[...cursor]], pointer: KEYBOARD };
  strokes.push(current);
  paint(current);
  changed();
}

canvas.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (MOVES[event.key]) moveCursor(MOVES[event.key], event.shiftKey ? BIG_STEP : STEP);
  else if (event.key === " ") {
    if (!event.repeat) toggleKeyboardPen();
  } else return;
  event.preventDefault(); // no page scroll
  showCursor();
});
canvas.addEventListener("focus", () => {
  if (canvas.matches(":focus-visible")) showCursor(); // not for a click
});
canvas.addEventListener("blur", () => {
  cursorMark.hidden = true;
  if (current?.pointer === KEYBOARD) lift();
});

element.querySelector("#clear").addEventListener("click", clearAll);
element.querySelector(".pen-undo").addEventListener("click", undo);
whyBox.addEventListener("change", () => ask());
element.querySelector(".pen-upload").addEventListener("click", () => fileInput.click());

function readFile(file) {
  if (!file) return;
  if (file.size > MAX_UPLOAD) {
    show({ html: `<p class="refusal">Could not read that image: it is larger than ${Math.round(MAX_UPLOAD / 1048576)} MB.</p>`, state: "error" });
    return;
  }
  const reader = new FileReader();
  reader.onload = () => {
    replaced();
    strokes = [];
    repaint();
    uploaded = reader.result;
    photo.src = uploaded;
    photo.hidden = false;
    ask();
  };
  reader.readAsDataURL(file);
}
fileInput.addEventListener("change", () => {
  readFile(fileInput.files[0]);
  fileInput.value = "";
});
const box = element.querySelector(".pen-box");
box.addEventListener("dragover", (event) => event.preventDefault());
box.addEventListener("drop", (event) => {
  event.preventDefault();
  readFile(event.dataTransfer.files[0]);
});

function onScreen() {
  return canvas.offsetParent !== null;
}
document.addEventListener("paste", (event) => {
  const file = [...(event.clipboardData?.files || [])].find((f) => f.type.startsWith("image/"));
  if (file && onScreen()) readFile(file);
});
document.addEventListener("keydown", (event) => {
  const typing = event.target.closest?.("input, textarea, select, [contenteditable=true]");
  if (typing || !onScreen()) return;
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
    event.preventDefault();
    undo();
  } else if (event.key === "Escape" || event.key === "Delete") {
    clearAll();
  }
});

// The model dropdown's change event calls setModel (draw_tab.py); the personal panel's
// buttons send `drawing()` with their click (personal_panel.py), and "Inside the network"
// asks about `drawing()` with `model()` (inside_view.js).
window.mnistPen = {
  model() {
    return model;
  },
  drawing() {
    if (blank()) return null;
    if (!uploaded) return { image: canvas.toDataURL("image/png"), kind: "canvas" };
    // A photo goes as at most 320 px (preprocessing brings it to 20x20 anyway), so that it
    // fits the size of an ordinary request.
    const scale = Math.min(1, 320 / Math.max(photo.naturalWidth, photo.naturalHeight));
    const small = document.createElement("canvas");
    small.width = Math.max(1, Math.round(photo.naturalWidth * scale));
    small.height = Math.max(1, Math.round(photo.naturalHeight * scale));
    small.getContext("2d").drawImage(photo, 0, 0, small.width, small.height);
    return { image: small.toDataURL("image/png"), kind: "upload" };
  },
  setModel(name) {
    if (name && name !== model) {
      model = name;
      generation++; // not replaced(): the drawing itself is the same
      ask();
    }
  },
};
// Listening from here on: a stroke drawn before this was lost (tests wait for the mark).
canvas.dataset.ready = "true";
}
