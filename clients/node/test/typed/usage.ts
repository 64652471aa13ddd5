// Type-checked by `npm run typecheck` (tsc --noEmit): how a TypeScript user calls the client. Misspelt
// fields, wrong value types and unknown enum names are compile errors.
import * as emoflux from '../../types/index';

export async function example(): Promise<string> {
  const clients = emoflux.connect({ addresses: { emotion: '127.0.0.1:50051' }, tls: null });
  try {
    const response = await emoflux.classify(
      clients,
      { images: [{ data: emoflux.syntheticFacePng(64) }], face_mode: 'FACE_MODE_WHOLE', top_k: 3 },
      { timeout: 5, metadata: { 'x-request-id': 'typed' } },
    );
    const face = response.results[0].faces[0];
    const best: string = face.top_label;
    const score: number = face.scores[0].score;
    const events = await emoflux.generateStream(clients, { prompt: 'a happy face', seed: '7', output_format: 'OUTPUT_FORMAT_PNG' });
    const last = events[events.length - 1];
    const seed: string | undefined = last.completed?.response?.images[0].seed;
    const status = await emoflux.health(clients, 'emotion');
    const finished = (await emoflux.evaluate(clients, { model_ids: ['a'], deadline: { seconds: '30' } })).pop()?.finished;
    const board = await emoflux.leaderboard(clients, { artifactType: 'model' });
    return `${best} ${score} ${seed} ${status} ${finished?.probes_run} ${board.entries.length}`;
  } finally {
    clients.close();
  }
}

export async function writer(token: string, snapshot: string): Promise<string> {
  const clients = emoflux.connect({ addresses: { ranker: '127.0.0.1:50053' }, token });
  const anonymous = emoflux.connect({ token: null });
  try {
    const signedIn: boolean = clients.authenticated && !anonymous.authenticated;
    const added = await emoflux.addModel(clients, { hub_id: 'owner/name', model_info_json: snapshot });
    const imported: number = added.evidence_imported;
    const explained = await emoflux.explainScore(clients, added.model?.id ?? '', { limit: 3, timeout: 10 });
    const delta: number = explained.influences[0].delta;
    const by: string = explained.influences[0].evidence?.submitted_by ?? '';
    const { records } = await emoflux.retractSource(clients, 'huggingface:owner/name', { reason: 'typed' });
    const history = await emoflux.getScoreHistory(clients, 'flux-1-pro');
    const then = await emoflux.getScore(clients, 'flux-1-pro', { asOf: '2026-11-26' });
    const header: string = emoflux.bearerValue(emoflux.checkToken(token));
    return `${signedIn} ${imported} ${delta} ${by} ${records} ${history.scores.length} ${then.score?.score} ${header}`;
  } finally {
    clients.close();
    anonymous.close();
  }
}
