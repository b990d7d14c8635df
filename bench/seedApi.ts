import axios from 'axios';

/**
 * Baseline for API cost: the seed's way of listing a library. Search pages (`POST /search/metadata`)
 * and then one `GET /assets/{id}` per asset for EXIF, people and favourite, one after another.
 * Returns how many assets it saw; the simulator counts the requests.
 */
export async function seedListLibrary(apiRoot: string, apiKey: string, pageSize = 250): Promise<number> {
  const http = axios.create({ baseURL: apiRoot, headers: { 'x-api-key': apiKey }, timeout: 60_000 });
  let seen = 0;
  for (let page = 1; ; page++) {
    const response = await http.post('/search/metadata', { page, size: pageSize });
    const items: Array<{ id: string }> = response.data.assets.items;
    for (const item of items) {
      const detail = await http.get(`/assets/${item.id}`);
      if (detail.data.id !== item.id) throw new Error(`seed baseline: asset ${item.id} answered with ${detail.data.id}`);
      seen++;
    }
    if (!response.data.assets.nextPage) return seen;
  }
}
