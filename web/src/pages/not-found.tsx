import { useTitle } from '../hooks/use-title';
import { Link } from '../router';

export function NotFoundPage() {
  useTitle('Page not found');
  return (
    <>
      <h1>Page not found</h1>
      <p>There is nothing at this address.</p>
      <Link to="/app">Back to your services</Link>
    </>
  );
}
