// Acknowledging what an inbox poll brought: every withdrawal seen and every document still
// waiting, in one call (POST /api/v1/terminal/documents/ack) when there are several.

// The most one call takes (docs/terminal-api.md); more are sent in several calls.
export var ACK_BATCH_MAX = 500;

// The delivery ids a poll's answer asks the app to acknowledge, each once: its withdrawals,
// then its documents still waiting (an acknowledgement lost before is sent again this way).
export function toAcknowledge(inbox) {
  var ids = [];
  var seen = {};
  function add(id) {
    if (!seen[id]) {
      seen[id] = true;
      ids.push(id);
    }
  }
  inbox.withdrawn.forEach(function (gone) { add(gone.delivery_id); });
  inbox.documents.forEach(function (summary) {
    if (summary.state === "waiting") add(summary.delivery_id);
  });
  return ids;
}

// Each id's answer, by id: {state} as the server now has the copy, or {code, message} when the
// server refused that one (not this device's any more). One id goes by its own call, several
// together; a failure of a whole call (network, credential) is thrown.
//
// A gateway of the release before has no call for several (it answers 404 or 405): that
// batch's ids then go by their own calls, and so do all of them from then on when the app
// keeps a `session` object for it (the app keeps one while it runs).
export async function acknowledgeAll(client, ids, session) {
  var memory = session || {};
  var answers = {};
  if (ids.length === 1 || memory.oneByOne) {
    await acknowledgeEach(client, ids, answers);
    return answers;
  }
  for (var start = 0; start < ids.length; start += ACK_BATCH_MAX) {
    var part = ids.slice(start, start + ACK_BATCH_MAX);
    if (memory.oneByOne) {
      await acknowledgeEach(client, part, answers);
      continue;
    }
    var batch;
    try {
      batch = await client.acknowledgeMany(part);
    } catch (error) {
      if (!(error && (error.status === 404 || error.status === 405))) throw error;
      memory.oneByOne = true;
      await acknowledgeEach(client, part, answers);
      continue;
    }
    batch.answers.forEach(function (answer) {
      answers[answer.delivery_id] = answer.state
        ? { state: answer.state }
        : { code: answer.code, message: answer.message };
    });
  }
  return answers;
}

// Each id by its own call, into `answers`; a refusal of one (404) is its answer.
async function acknowledgeEach(client, ids, answers) {
  for (var i = 0; i < ids.length; i++) {
    try {
      var one = await client.acknowledge(ids[i]);
      answers[ids[i]] = { state: one.state };
    } catch (error) {
      if (!(error && error.status === 404)) throw error;
      answers[ids[i]] = { code: error.code, message: error.message };
    }
  }
}

// The states an acknowledgement may answer that a document's card shows (i18n.js has a label
// for each); any other (done, routed…) leaves the document as the app has it.
export var SHOWN_STATES = ["downloaded", "in_progress"];

// What the app makes of the acknowledgements' answers: the state to keep with each document
// whose card shows it, and the documents withdrawn meanwhile (answered "withdrawal_seen"), to
// be dropped as a poll's withdrawals are.
export function acknowledgedNews(answers) {
  var news = { states: {}, withdrawn: [] };
  Object.keys(answers).forEach(function (id) {
    var state = answers[id].state;
    if (state === "withdrawal_seen") news.withdrawn.push(id);
    else if (SHOWN_STATES.indexOf(state) >= 0) news.states[id] = state;
  });
  return news;
}
