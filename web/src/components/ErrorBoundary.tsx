import { Component, type ReactNode } from 'react';
import { Alert, Button, Stack, Text } from '@mantine/core';

interface Props {
  /** title and button text, already translated */
  title: string;
  reload: string;
  children: ReactNode;
}

interface State {
  error: Error | null;
}

/**
 * ErrorBoundary shows what broke instead of a blank page: a page that throws
 * while drawing, or a code chunk that failed to load (say, after an upgrade
 * while the tab was open).
 */
export default class ErrorBoundary extends Component<Props, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <Alert color="red" title={this.props.title} m="md">
        <Stack gap="sm">
          <Text size="sm" className="pre-wrap">
            {this.state.error.message}
          </Text>
          <Button size="xs" variant="default" w="fit-content" onClick={() => window.location.reload()}>
            {this.props.reload}
          </Button>
        </Stack>
      </Alert>
    );
  }
}
