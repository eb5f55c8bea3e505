// Accept / reject you can hear and feel with gloves on, in a noisy store.

var audio = null;

function context() {
  var Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return null;
  if (!audio) audio = new Ctx();
  if (audio.state === "suspended") audio.resume();
  return audio;
}

function tone(ctx, frequency, start, length) {
  var osc = ctx.createOscillator();
  var gain = ctx.createGain();
  osc.type = "square";
  osc.frequency.value = frequency;
  gain.gain.setValueAtTime(0.15, ctx.currentTime + start);
  gain.gain.setValueAtTime(0, ctx.currentTime + start + length);
  osc.connect(gain);
  gain.connect(ctx.destination);
  osc.start(ctx.currentTime + start);
  osc.stop(ctx.currentTime + start + length + 0.02);
}

var VIBRATION = { ok: 40, arrived: [40, 60, 40, 60, 40], warn: [80, 60, 80], error: [200, 100, 200] };

// kind: "ok" (counted), "warn" (counted, but look), "error" (refused), "arrived" (a document).
export function signal(kind, enabled) {
  document.body.setAttribute("data-feedback", kind);
  if (enabled === false) return;
  try {
    var ctx = context();
    if (ctx) {
      if (kind === "ok") tone(ctx, 1760, 0, 0.07);
      else if (kind === "arrived") {
        // A document came: a rising chime, heard across the aisle, unlike any scan's answer.
        tone(ctx, 1320, 0, 0.09);
        tone(ctx, 1760, 0.12, 0.12);
      } else if (kind === "warn") {
        // Counted, but look: two short mid tones, unlike both the accept and the refusal.
        tone(ctx, 880, 0, 0.08);
        tone(ctx, 880, 0.14, 0.08);
      } else {
        tone(ctx, 220, 0, 0.15);
        tone(ctx, 180, 0.2, 0.25);
      }
    }
  } catch (error) {
    // No sound on this device: vibration and the coloured message still tell.
  }
  if (navigator.vibrate) navigator.vibrate(VIBRATION[kind] || VIBRATION.error);
}

// Browsers allow sound only after a touch or a key: wake the audio on the first one.
export function unlockOnFirstTouch() {
  var wake = function () {
    try { context(); } catch (error) { /* no audio */ }
    window.removeEventListener("pointerdown", wake, true);
    window.removeEventListener("keydown", wake, true);
  };
  window.addEventListener("pointerdown", wake, true);
  window.addEventListener("keydown", wake, true);
}
