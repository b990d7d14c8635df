import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/**
 * Immich server address and API key. The key is sent as the `x-api-key` header; the nodes find the
 * API root (`/api` or the root) themselves, so the URL may be given with or without `/api`.
 */
export class ImmichApi implements ICredentialType {
  name = 'immichApi';

  displayName = 'Immich API';

  icon: Icon = { light: 'file:immich.svg', dark: 'file:immich.dark.svg' };

  documentationUrl = 'https://immich.app/docs/api';

  properties: INodeProperties[] = [
    {
      displayName: 'URL',
      name: 'url',
      type: 'string',
      default: '',
      placeholder: 'https://photos.example.com',
      description: 'Address of the Immich server, with or without the trailing /api',
      required: true,
    },
    {
      displayName: 'API Key',
      name: 'apiKey',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description:
        'Created in Immich under Account Settings → API Keys. Needed permissions: asset.read, face.read, album.read, tag.read, person.read, asset.edit.get (face regions of photos edited in Immich), and user.read for this credential test.',
      required: true,
    },
  ];

  authenticate: IAuthenticateGeneric = {
    type: 'generic',
    properties: {
      headers: {
        'x-api-key': '={{$credentials.apiKey}}',
      },
    },
  };

  // The test normalizes the URL the same way the nodes do: strip trailing slashes and a trailing /api,
  // then add /api back, so "https://host", "https://host/" and "https://host/api" all work.
  test: ICredentialTestRequest = {
    request: {
      baseURL: '={{ String($credentials.url).trim().replace(/\\/+$/, "").replace(/\\/api$/i, "") + "/api" }}',
      url: '/users/me',
      method: 'GET',
    },
    rules: [
      {
        type: 'responseCode',
        properties: { value: 401, message: 'Immich rejected the API key: check it in Immich under Account Settings → API Keys' },
      },
      {
        type: 'responseCode',
        properties: { value: 403, message: 'The API key lacks the "user.read" permission needed for this test' },
      },
      {
        type: 'responseCode',
        properties: { value: 404, message: 'No Immich API at this URL: use the address of the Immich server, e.g. https://photos.example.com' },
      },
    ],
  };
}
