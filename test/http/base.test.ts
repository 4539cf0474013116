import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRegistry, type TestRegistry } from './support/registry.js';

describe('the API base and routing', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry();
  });
  afterAll(async () => {
    await registry.close();
  });

  it('GET /v2/ answers 200 with an empty JSON object and the API version header', async () => {
    const response = await registry.send('GET', '/v2/');
    expect(response.status).toBe(200);
    expect(response.headers['docker-distribution-api-version']).toBe('registry/2.0');
    expect(response.json()).toEqual({});
  });

  it('HEAD /v2/ answers 200 without a body', async () => {
    const response = await registry.send('HEAD', '/v2/');
    expect(response.status).toBe(200);
    expect(response.body.length).toBe(0);
  });

  it('an unknown endpoint answers 404 with OCI error JSON, never HTML', async () => {
    const response = await registry.send('GET', '/nothing/here');
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['docker-distribution-api-version']).toBe('registry/2.0');
    expect(response.json()).toMatchObject({ errors: [{ code: 'UNSUPPORTED' }] });
  });

  it('a method an endpoint does not support answers 405 UNSUPPORTED with Allow', async () => {
    const response = await registry.send('POST', '/v2/repo/tags/list');
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD');
    expect(response.json()).toMatchObject({ errors: [{ code: 'UNSUPPORTED' }] });
  });

  it.each([
    ['uppercase letters', 'Repo'],
    ['a leading separator', '-repo'],
    ['a doubled slash', 'a//b'],
    ['a trailing dot', 'repo.'],
    ['three underscores', 'a___b'],
  ])('a repository name with %s answers 400 NAME_INVALID', async (_why, name) => {
    const response = await registry.send('GET', `/v2/${name}/tags/list`);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'NAME_INVALID' }] });
  });

  it('a repository name longer than 255 characters answers 400 NAME_INVALID', async () => {
    const name = Array.from({ length: 26 }, () => 'abcdefghij').join('/');
    const response = await registry.send('GET', `/v2/${name}/tags/list`);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'NAME_INVALID' }] });
  });

  it('names with every separator of the grammar and several components are accepted', async () => {
    const response = await registry.send('GET', '/v2/a.b/c_d/e__f/g--h/tags/list');
    expect(response.status).toBe(404);
    expect(response.json()).toMatchObject({ errors: [{ code: 'NAME_UNKNOWN' }] });
  });
});
