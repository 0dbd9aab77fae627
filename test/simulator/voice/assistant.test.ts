import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classify, EXPECT_SPEECH_TIMEOUT_MS, JOKES, normaliseTranscript, respond, samplePhrases, type DialogState } from '../../../simulator/voice/assistant.js';

const context = { now: new Date('2026-11-23T14:05:00Z'), timeZone: 'UTC' };

test('every scripted phrase lands on its own intent', () => {
  for (const { intent, text } of samplePhrases()) {
    const state: DialogState = intent === 'colour' ? { awaiting: 'colour' } : {};
    assert.equal(classify(normaliseTranscript(`alexa ${text}`), state), intent, text);
  }
});

test('time and date are told from the given clock in the given zone', () => {
  assert.equal(respond('Alexa, what time is it?', {}, context).text, 'It is 2:05 PM.');
  assert.equal(respond("what's the date", {}, context).text, 'Today is Monday, November 23, 2026.');
  assert.equal(respond('what time is it', {}, { ...context, timeZone: 'Asia/Tokyo' }).text, 'It is 11:05 PM.');
});

test('jokes come in turn and wrap around', () => {
  let state: DialogState = {};
  const told: string[] = [];
  for (let i = 0; i <= JOKES.length; i++) {
    const a = respond('tell me a joke', state, context);
    told.push(a.text);
    state = a.state;
  }
  assert.deepEqual(told, [...JOKES, JOKES[0]]);
});

test('stop answers nothing, and her name is Alexa', () => {
  const stop = respond('alexa stop', {}, context);
  assert.equal(stop.intent, 'stop');
  assert.equal(stop.text, '');
  assert.equal(stop.expectSpeech, undefined);
  assert.match(respond("what's your name", {}, context).text, /^My name is Alexa/);
});

test('the two-turn exchange asks, reopens the microphone, and remembers the answer', () => {
  const ask = respond('alexa ask me a question', {}, context);
  assert.equal(ask.text, 'What is your favourite colour?');
  assert.deepEqual(ask.expectSpeech, { timeoutMs: EXPECT_SPEECH_TIMEOUT_MS });
  assert.equal(ask.state.awaiting, 'colour');
  const answer = respond('i like blue', ask.state, context);
  assert.equal(answer.intent, 'colour');
  assert.equal(answer.expectSpeech, undefined);
  assert.match(answer.text, /^Blue\./);
  assert.equal(respond("what's my favourite colour", answer.state, context).text, 'Your favourite colour is blue.');
});

test('a follow-up not understood is asked again once, then dropped', () => {
  const ask = respond('ask me a question', {}, context);
  const again = respond('banana', ask.state, context);
  assert.equal(again.text, 'Sorry, which colour?');
  assert.ok(again.expectSpeech);
  const giveUp = respond('', again.state, context);
  assert.equal(giveUp.expectSpeech, undefined);
  assert.equal(giveUp.state.awaiting, undefined);
});

test('anything else is politely not understood, silence gets no answer', () => {
  const a = respond('play some music', {}, context);
  assert.equal(a.intent, 'unknown');
  assert.equal(a.text, "Sorry, I didn't get that.");
  assert.equal(respond('', {}, context).text, '');
  // A colour outside the question is not an answer.
  assert.equal(respond('blue', {}, context).intent, 'unknown');
});

test('the function is pure: same input, same output, the state not mutated', () => {
  const state: DialogState = Object.freeze({ jokeIndex: 1 });
  assert.deepEqual(respond('tell me a joke', state, context), respond('tell me a joke', state, context));
  assert.equal(state.jokeIndex, 1);
});
