throw new Error('webrtc is not available in this build')
