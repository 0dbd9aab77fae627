// The two --say files of the cut-turn tests (issue 24 item 5): a.wav asks for a reminder twice over (about 4.5 s,
// so seconds of it are left when the network is cut in its first half), b.wav asks the time. A test that cuts
// a.wav's turn expects the emulator to hear b.wav as exactly B_WORDS.
import { join } from 'node:path';
import { writeWav } from '../../hosts/node/wav.js';
import { concat, silence } from '../../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../emulator/voice/tts.js';

export const B_WORDS = 'what time is it';

export async function writeCutTurnFiles(dir: string): Promise<{ a: string; b: string }> {
  const synthesizer = await SpeechSynthesizer.create();
  const voice = USER_VOICES['us-male'];
  const reminder = synthesizer.synthesize('remind me in eleven minutes', voice);
  const files = { a: join(dir, 'a.wav'), b: join(dir, 'b.wav') };
  writeWav(files.a, concat(silence(4000), reminder, silence(3200), reminder, silence(8000)));
  writeWav(files.b, concat(silence(4000), synthesizer.synthesize(B_WORDS, voice), silence(8000)));
  return files;
}
