// "Inside the network" (inside_view.py): every layer of the model for the drawing on the pen
// canvas. It asks only after the canvas has shown an answer (the canvas's "pen-answer"
// event), so the answer never waits for it, and only while the view is open: a closed
// accordion asks nothing, and opening it asks about the drawing as it is then. One
// request at a time; what is drawn meanwhile is asked about when it returns, and a reply
// about a drawing since cleared, replaced or read by another model is dropped. Runs as
// gr.HTML's js_on_load: `element`, `server` given.
{
const root = element.querySelector(".inside");
const layers = element.querySelector(".inside-layers");
const examples = element.querySelector(".inside-examples");
const blankNote = layers.innerHTML;
const POLL_MS = 1000; // while a model's channel images are being computed

let generation = null; // the canvas's drawing (bumped when replaced or the model changes)
let shownModel = null; // the model whose layers are shown
let dirty = true; // an answer came (or none was asked yet) that the view has not asked about
let inFlight = false;
let again = false;
let picked = null; // {model, layer, channel, name}

function open() {
  return root.offsetParent !== null;
}

async function refresh() {
  dirty = false;
  if (inFlight) {
    again = true;
    return;
  }
  const pen = window.mnistPen;
  const drawing = pen && pen.drawing();
  const model = pen && pen.model();
  if (!drawing || !model) {
    layers.innerHTML = blankNote;
    shownModel = null;
    root.dataset.state = "blank";
    return;
  }
  inFlight = true;
  again = false;
  const asked = generation;
  try {
    const result = await server.inspect_drawing({ ...drawing, model });
    if (asked === generation) show(result);
  } catch (error) {
    if (asked === generation) show({ html: `<p class="inside-note">The server did not answer (${error}).</p>` });
  } finally {
    inFlight = false;
    if (again) refresh();
  }
}

function show(result) {
  layers.innerHTML = result.html;
  shownModel = result.model || null;
  root.dataset.state = shownModel ? "layers" : "message";
  mark();
}

// The canvas showed an answer: ask about the same drawing, if the view is open.
document.addEventListener("pen-answer", (event) => {
  generation = event.detail.generation;
  dirty = true;
  if (open()) refresh();
});

// Opened (the accordion, or the Draw tab again): its size changes from nothing.
new ResizeObserver(() => {
  if (dirty && open()) refresh();
}).observe(root);

function tileAt(img, event) {
  const box = img.getBoundingClientRect();
  const scale = img.naturalWidth / box.width;
  const gap = img.dataset.gap * 1;
  const pitch = img.dataset.cell * 1 + gap;
  const column = Math.floor(((event.clientX - box.left) * scale - gap) / pitch);
  const row = Math.floor(((event.clientY - box.top) * scale - gap) / pitch);
  const columns = img.dataset.columns * 1;
  if (column < 0 || column >= columns || row < 0) return null;
  const channel = row * columns + column;
  return channel < img.dataset.count * 1 ? channel : null;
}

function choose(img, channel) {
  pick({ model: shownModel, layer: img.dataset.layer * 1, channel, name: img.dataset.name });
}

layers.addEventListener("click", (event) => {
  const img = event.target.closest("img.inside-tiles");
  if (!img || !shownModel) return;
  const channel = tileAt(img, event);
  if (channel !== null) choose(img, channel);
});

// The keyboard's click, on a layer's picture (it takes focus): Enter or Space picks its
// first tile, the arrow keys the next one over from the tile picked.
const STEPS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
layers.addEventListener("keydown", (event) => {
  const img = event.target.closest("img.inside-tiles");
  const step = STEPS[event.key];
  if (!img || !shownModel || !(step || event.key === "Enter" || event.key === " ")) return;
  event.preventDefault(); // no page scroll
  const here = picked && picked.model === shownModel && picked.layer === img.dataset.layer * 1;
  let channel = here ? picked.channel : 0;
  if (step && here) {
    const moved = channel + step[0] + step[1] * img.dataset.columns;
    if (moved >= 0 && moved < img.dataset.count * 1) channel = moved;
  }
  choose(img, channel);
});

// The picked tile outlined, where its layer is shown for the same model.
function mark() {
  layers.querySelectorAll(".inside-mark").forEach((m) => (m.hidden = true));
  if (!picked || picked.model !== shownModel) return;
  const img = layers.querySelector(`img.inside-tiles[data-layer="${picked.layer}"]`);
  if (!img) return;
  const gap = img.dataset.gap * 1;
  const cell = img.dataset.cell * 1;
  const columns = img.dataset.columns * 1;
  // The picture's own size (it may not be decoded yet): a grid of cells with gaps around.
  const width = columns * (cell + gap) + gap;
  const height = Math.ceil(img.dataset.count / columns) * (cell + gap) + gap;
  const left = gap + (picked.channel % columns) * (cell + gap);
  const top = gap + Math.floor(picked.channel / columns) * (cell + gap);
  const box = img.parentElement.querySelector(".inside-mark");
  Object.assign(box.style, {
    left: `${(100 * left) / width}%`,
    top: `${(100 * top) / height}%`,
    width: `${(100 * cell) / width}%`,
    height: `${(100 * cell) / height}%`,
  });
  box.hidden = false;
}

async function pick(choice) {
  picked = choice;
  mark();
  examples.dataset.state = "asking";
  let result;
  try {
    result = await server.channel_images({ model: choice.model, layer: choice.layer, channel: choice.channel });
  } catch (error) {
    result = { state: "error", html: `<p class="inside-note">The server did not answer (${error}).</p>` };
  }
  if (picked !== choice) return; // another tile was clicked meanwhile
  const title = document.createElement("p");
  title.className = "inside-picked";
  title.textContent = `${choice.model} · ${choice.name} · #${choice.channel}`;
  examples.innerHTML = result.html;
  examples.prepend(title);
  examples.dataset.state = result.state;
  if (result.state === "pending") setTimeout(() => picked === choice && pick(choice), POLL_MS);
}
}
