import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classify, EXPECT_SPEECH_TIMEOUT_MS, JOKES, normaliseTranscript, respond, samplePhrases, type DialogState } from '../../../emulator/voice/assistant.js';

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
  const a = respond('order me a pizza', {}, context);
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

test('timers, reminders and alarms are set with their time; the answer says what was understood', () => {
  const timer = respond('alexa set a timer for ten seconds', {}, context);
  assert.equal(timer.intent, 'setTimer');
  assert.equal(timer.text, '10 seconds, starting now.');
  assert.deepEqual(timer.actions, [{ kind: 'setAlert', type: 'TIMER', at: new Date(context.now.getTime() + 10_000), label: '10 seconds' }]);
  const long = respond('set a forty five minute timer', {}, context);
  assert.deepEqual(long.actions?.[0], { kind: 'setAlert', type: 'TIMER', at: new Date(context.now.getTime() + 45 * 60_000), label: '45 minutes' });
  const reminder = respond('remind me in two hours', {}, context);
  assert.equal(reminder.text, 'Okay, I will remind you in 2 hours.');
  assert.equal((reminder.actions?.[0] as { type: string }).type, 'REMINDER');
  // 14:05 UTC now: seven o'clock comes next at 19:00, one o'clock at 01:00 tomorrow.
  const alarm = respond("set an alarm for seven o'clock", {}, context);
  assert.equal(alarm.text, 'Alarm set for 7:00 PM.');
  assert.deepEqual(alarm.actions, [{ kind: 'setAlert', type: 'ALARM', at: new Date('2026-11-23T19:00:00Z'), label: '7:00 PM' }]);
  assert.deepEqual((respond('wake me up at one', {}, context).actions?.[0] as { at: Date }).at, new Date('2026-11-24T01:00:00Z'));
});

test('alerts are listed and cancelled by kind from the device\'s list; none is said so', () => {
  const alerts = [
    { token: 't1', type: 'TIMER' as const, at: new Date(context.now.getTime() + 90_000) },
    { token: 't2', type: 'TIMER' as const, at: new Date(context.now.getTime() + 8_000) },
    { token: 'a1', type: 'ALARM' as const, at: new Date('2026-11-23T19:00:00Z') },
  ];
  assert.equal(respond('what timers do i have', {}, { ...context, alerts }).text, 'You have 2 timers: one with 8 seconds left, one with 1 minute and 30 seconds left.');
  assert.equal(respond('what alarms do i have', {}, { ...context, alerts }).text, 'You have 1 alarm: one for 7:00 PM.');
  assert.equal(respond('what reminders do i have', {}, { ...context, alerts }).text, 'You have no reminders.');
  const cancel = respond('cancel my timer', {}, { ...context, alerts });
  assert.equal(cancel.text, 'Your 2 timers are cancelled.');
  assert.deepEqual(cancel.actions, [{ kind: 'deleteAlerts', tokens: ['t1', 't2'] }]);
  assert.deepEqual(respond('cancel my alarm', {}, { ...context, alerts }).actions, [{ kind: 'deleteAlerts', tokens: ['a1'] }]);
  assert.equal(respond('cancel my timer', {}, context).text, 'You have no timers.');
  assert.deepEqual(respond('stop', {}, context).actions, [{ kind: 'stopAlert' }]);
});

test('volume up and down step by 10 from the device\'s volume, "set the volume to five" is 50 of 100, beyond ten is refused', () => {
  assert.deepEqual(respond('volume up', {}, { ...context, volume: 40 }).actions, [{ kind: 'setVolume', volume: 50 }]);
  assert.deepEqual(respond('turn it down', {}, { ...context, volume: 5 }).actions, [{ kind: 'setVolume', volume: 0 }]);
  assert.deepEqual(respond('louder', {}, { ...context, volume: 100 }).actions, [{ kind: 'setVolume', volume: 100 }]);
  const five = respond('alexa set the volume to five', {}, context);
  assert.equal(five.text, '');
  assert.deepEqual(five.actions, [{ kind: 'setVolume', volume: 50 }]);
  assert.equal(respond('volume twenty', {}, context).text, 'The volume goes from zero to ten.');
});
